#include "gateway/model_exchange.h"

#include <boost/asio/post.hpp>

namespace hearth::gateway {

void Exchange::notify(std::shared_ptr<Exchange> self) {
  {
    std::lock_guard lk(mu);
    if (wake_posted) return;  // one wake-up per drain: a fast stream does not flood the strand
    wake_posted = true;
  }
  boost::asio::post(wake.get_executor(), [self = std::move(self)] { self->wake.cancel(); });
}

void Exchange::cancel() {
  std::lock_guard lk(mu);
  cancelled = true;
  if (run) run->cancel();
}

}  // namespace hearth::gateway
