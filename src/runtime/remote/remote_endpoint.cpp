#include "runtime/remote_endpoint.h"

#include "hearth/error.h"
#include "runtime/remote/gateway_endpoint.h"
#include "runtime/remote/provider_endpoint.h"

namespace hearth {

std::shared_ptr<RemoteEndpoint> RemoteEndpoint::create(const EndpointDescriptor& descriptor) {
  if (auto* g = std::get_if<GatewayEndpointOptions>(&descriptor.options))
    return std::make_shared<remote::GatewayEndpoint>(descriptor.name, *g);
  if (auto* p = std::get_if<ProviderEndpointOptions>(&descriptor.options))
    return std::make_shared<remote::ProviderEndpoint>(descriptor.name, *p);
  throw Error("endpoint '" + descriptor.name + "' is local, not remote");
}

}  // namespace hearth
