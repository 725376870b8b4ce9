// Placeholder until the remote endpoints (gateway, provider) land: refuses with a clear error.
#include "hearth/error.h"
#include "runtime/remote_endpoint.h"

namespace hearth {

std::shared_ptr<RemoteEndpoint> RemoteEndpoint::create(const EndpointDescriptor& descriptor) {
  throw Error("endpoint '" + descriptor.name + "': gateway and provider endpoints are not implemented yet");
}

}  // namespace hearth
