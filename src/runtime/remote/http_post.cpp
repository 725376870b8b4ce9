#include "runtime/remote/http_post.h"

#include <curl/curl.h>

#include <memory>
#include <mutex>

#include "hearth/error.h"

namespace hearth::remote {

namespace {

struct Transfer {
  const HttpPost* request;
  const std::function<void(long)>* on_status;
  const std::function<bool(std::string_view)>* on_data;
  CURL* easy;
  HttpPostResult result;
  bool status_reported = false;
  bool stopped_by_reader = false;
};

long status_of(Transfer& t) {
  long code = 0;
  curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &code);
  return code;
}

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto& t = *static_cast<Transfer*>(user);
  size_t n = size * count;
  // The blank line ending a final (non-1xx) header block: the status is known.
  if ((n == 2 && data[0] == '\r') || (n == 1 && data[0] == '\n')) {
    long code = status_of(t);
    if (code >= 200 && !t.status_reported) {
      t.status_reported = true;
      t.result.status = code;
      if (*t.on_status) (*t.on_status)(code);
    }
  }
  return n;
}

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto& t = *static_cast<Transfer*>(user);
  size_t n = size * count;
  if (t.result.status < 200 || t.result.status >= 300) {
    size_t room = t.request->max_error_body - std::min(t.request->max_error_body, t.result.error_body.size());
    t.result.error_body.append(data, std::min(n, room));
    return n;
  }
  if (!(*t.on_data)(std::string_view(data, n))) {
    t.stopped_by_reader = true;
    return CURL_WRITEFUNC_ERROR;
  }
  return n;
}

struct EasyDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct MultiDeleter {
  void operator()(CURLM* m) const { curl_multi_cleanup(m); }
};
struct ListDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

}  // namespace

HttpPostResult http_post(const HttpPost& request, const std::function<void(long)>& on_status,
                         const std::function<bool(std::string_view)>& on_data) {
  static std::once_flag init;
  std::call_once(init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });

  std::unique_ptr<CURL, EasyDeleter> easy(curl_easy_init());
  std::unique_ptr<CURLM, MultiDeleter> multi(curl_multi_init());
  if (!easy || !multi) throw Error("libcurl: cannot create a transfer");
  std::unique_ptr<curl_slist, ListDeleter> headers;
  for (const std::string& h : request.headers) {
    curl_slist* next = curl_slist_append(headers.get(), h.c_str());
    if (next == nullptr) throw Error("libcurl: out of memory");
    headers.release();
    headers.reset(next);
  }
  Transfer t{&request, &on_status, &on_data, easy.get(), {}};
  char error_text[CURL_ERROR_SIZE] = {0};
  CURL* e = easy.get();
  curl_easy_setopt(e, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(e, CURLOPT_POST, 1L);
  curl_easy_setopt(e, CURLOPT_POSTFIELDS, request.body.data());
  curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, error_text);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(request.connect_timeout_seconds * 1000));
  if (request.timeout_seconds > 0) curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout_seconds * 1000));
  curl_multi_add_handle(multi.get(), e);

  int running = 1;
  while (running > 0) {
    if (request.cancel != nullptr && request.cancel->load(std::memory_order_relaxed)) {
      // Removing the handle closes its connection: the remote side sees the disconnect and stops its run.
      curl_multi_remove_handle(multi.get(), e);
      t.result.cancelled = true;
      return t.result;
    }
    CURLMcode mc = curl_multi_perform(multi.get(), &running);
    if (mc != CURLM_OK) throw Error(std::string("libcurl: ") + curl_multi_strerror(mc));
    if (running > 0) curl_multi_poll(multi.get(), nullptr, 0, 20, nullptr);  // re-check cancel every 20 ms
  }
  CURLcode rc = CURLE_OK;
  int left = 0;
  while (CURLMsg* msg = curl_multi_info_read(multi.get(), &left))
    if (msg->msg == CURLMSG_DONE) rc = msg->data.result;
  curl_multi_remove_handle(multi.get(), e);
  if (t.stopped_by_reader) return t.result;
  if (rc != CURLE_OK) {
    std::string what = error_text[0] ? error_text : curl_easy_strerror(rc);
    if (rc == CURLE_OPERATION_TIMEDOUT) throw Error("request to the remote endpoint timed out: " + what);
    throw Error("cannot reach the remote endpoint: " + what);
  }
  t.result.status = status_of(t);
  return t.result;
}

}  // namespace hearth::remote
