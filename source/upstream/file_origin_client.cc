#include "source/upstream/file_origin_client.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "source/common/http/http1/http_date.h"
#include "source/upstream/string_view_compat.h"

namespace modgate::upstream {
namespace {

// Big enough that a 100 MiB zip is a few hundred wake-ups, small enough
// that a paused reader holds little.
constexpr size_t kChunkBytes = 256 * 1024;

// Closes the descriptor when the last holder (a request, or a read still
// running on the pool for one that was cancelled) lets go.
struct OpenFile {
  explicit OpenFile(int fd) : fd(fd) {}
  ~OpenFile() {
    if (fd >= 0) ::close(fd);
  }
  OpenFile(const OpenFile&) = delete;
  OpenFile& operator=(const OpenFile&) = delete;
  const int fd;
};

// How pool work reaches the dispatcher. The client clears it when it goes:
// a read that finishes afterwards posts nothing, because the dispatcher
// may be gone too (at shutdown workers stop before the pool drains).
struct DispatcherLink {
  std::mutex mu;
  event::Dispatcher* dispatcher = nullptr;

  bool live() {
    std::lock_guard<std::mutex> lock(mu);
    return dispatcher != nullptr;
  }
  void post(std::function<void()> cb) {
    std::lock_guard<std::mutex> lock(mu);
    if (dispatcher != nullptr) dispatcher->post(std::move(cb));
  }
};

bool SafeRelativePath(std::string_view path) {
  if (path.empty() || path.front() != '/') return false;
  if (path.find('\0') != std::string_view::npos || path.find('\\') != std::string_view::npos)
    return false;
  for (absl::string_view segment : absl::StrSplit(toAbsl(path.substr(1)), '/')) {
    if (segment == "." || segment == "..") return false;
  }
  return true;
}

struct OpenResult {
  std::shared_ptr<OpenFile> file;
  int error = 0;  // errno of open/fstat, or EISDIR
  uint64_t size = 0;
  time_t mtime = 0;
};

OpenResult OpenRegularFile(const std::string& name) {
  OpenResult result;
  int fd = ::open(name.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    result.error = errno;
    return result;
  }
  result.file = std::make_shared<OpenFile>(fd);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    result.error = errno;
  } else if (!S_ISREG(st.st_mode)) {
    result.error = EISDIR;
  } else {
    result.size = static_cast<uint64_t>(st.st_size);
    result.mtime = st.st_mtime;
  }
  if (result.error != 0) result.file.reset();
  return result;
}

class FileOriginClient;

class FileRequest : public UpstreamRequest {
 public:
  FileRequest(FileOriginClient& client, uint64_t id, ResponseCallbacks& callbacks, bool head)
      : client_(client), id_(id), callbacks_(callbacks), head_(head) {}

  void cancel() override;
  void readDisable(bool disable) override;

  FileOriginClient& client_;
  const uint64_t id_;
  ResponseCallbacks& callbacks_;
  const bool head_;
  std::shared_ptr<OpenFile> file_;
  uint64_t size_ = 0;
  uint64_t offset_ = 0;
  bool read_disabled_ = false;
  bool reading_ = false;
};

class FileOriginClient : public HttpClient {
 public:
  FileOriginClient(event::Dispatcher& dispatcher, common::ThreadPool& pool)
      : dispatcher_(dispatcher), pool_(pool), link_(std::make_shared<DispatcherLink>()) {
    link_->dispatcher = &dispatcher;
  }
  ~FileOriginClient() override {
    std::lock_guard<std::mutex> lock(link_->mu);
    link_->dispatcher = nullptr;
  }

  UpstreamRequest* send(const Url& base, std::string_view path, const http::HeaderMap&,
                        ResponseCallbacks& callbacks, const RequestOptions& options) override {
    const uint64_t id = ++last_id_;
    auto request = std::make_unique<FileRequest>(*this, id, callbacks, options.method == "HEAD");
    FileRequest* raw = request.get();
    requests_.emplace(id, std::move(request));
    // The go command never sends a query to a GOPROXY; a file has none.
    const std::string_view file_path = path.substr(0, path.find('?'));
    if (!SafeRelativePath(file_path)) {
      std::string reason = absl::StrCat("file origin: refusing path \"", toAbsl(file_path), "\"\n");
      dispatcher_.post([this, alive = alive(), id, reason] {
        if (!alive.expired()) respondText(id, 400, reason);
      });
      return raw;
    }
    std::string name = absl::StrCat(base.path_prefix, toAbsl(file_path));
    std::string shown(file_path);
    pool_.post([link = link_, alive = alive(), this, id, name = std::move(name),
                shown = std::move(shown)] {
      if (!link->live()) return;
      OpenResult result = OpenRegularFile(name);
      link->post([alive, this, id, result = std::move(result), shown] {
        if (!alive.expired()) onOpened(id, result, shown);
      });
    });
    return raw;
  }

  void cancel(uint64_t id) {
    auto it = requests_.find(id);
    if (it == requests_.end()) return;
    // cancel() may come from inside a callback of this very request.
    dispatcher_.deferredDelete(std::make_unique<Retired>(std::move(it->second)));
    requests_.erase(it);
  }

  void resume(uint64_t id) {
    FileRequest* request = find(id);
    if (request != nullptr) readNext(*request);
  }

 private:
  struct Retired : event::DeferredDeletable {
    explicit Retired(std::unique_ptr<FileRequest> request) : request(std::move(request)) {}
    std::unique_ptr<FileRequest> request;
  };

  // Closures queued on the dispatcher run only while the client lives.
  std::weak_ptr<bool> alive() const { return alive_; }

  FileRequest* find(uint64_t id) {
    auto it = requests_.find(id);
    return it == requests_.end() ? nullptr : it->second.get();
  }

  void onOpened(uint64_t id, const OpenResult& result, const std::string& shown) {
    FileRequest* request = find(id);
    if (request == nullptr) return;
    if (result.error == ENOENT || result.error == ENOTDIR || result.error == EISDIR) {
      respondText(id, 404, absl::StrCat("not found: ", shown, "\n"));
      return;
    }
    if (result.error != 0) {
      respondText(id, 500,
                  absl::StrCat("file origin: ", shown, ": ", std::strerror(result.error), "\n"));
      return;
    }
    request->file_ = result.file;
    request->size_ = result.size;
    auto headers = std::make_unique<http::ResponseHeaders>();
    headers->status = 200;
    headers->headers.add("content-length", std::to_string(result.size));
    char date[64];
    headers->headers.add("last-modified",
                         std::string(date, http::http1::formatHttpDate(result.mtime, date)));
    const bool end = request->head_ || result.size == 0;
    ResponseCallbacks& callbacks = request->callbacks_;
    if (end) finish(id);
    callbacks.onResponseHeaders(std::move(headers), end);
    if (!end) resume(id);
  }

  void readNext(FileRequest& request) {
    if (request.reading_ || request.read_disabled_ || request.offset_ >= request.size_) return;
    request.reading_ = true;
    const size_t want =
        static_cast<size_t>(std::min<uint64_t>(kChunkBytes, request.size_ - request.offset_));
    pool_.post([link = link_, alive = alive(), this, id = request.id_, file = request.file_,
                offset = request.offset_, want] {
      if (!link->live()) return;
      auto chunk = std::make_shared<std::string>(want, '\0');
      ssize_t n = ::pread(file->fd, chunk->data(), want, static_cast<off_t>(offset));
      const int error = n < 0 ? errno : 0;
      link->post([alive, this, id, chunk, n, error] {
        if (!alive.expired()) onRead(id, chunk, n, error);
      });
    });
  }

  void onRead(uint64_t id, const std::shared_ptr<std::string>& chunk, ssize_t n, int error) {
    FileRequest* request = find(id);
    if (request == nullptr) return;
    request->reading_ = false;
    if (n <= 0) {
      // The file shrank or failed under us: the body cannot be completed.
      std::string detail =
          n == 0 ? "file truncated while being read" : absl::StrCat("read: ", std::strerror(error));
      ResponseCallbacks& callbacks = request->callbacks_;
      finish(id);
      callbacks.onFailure(FailureReason::kReset, detail);
      return;
    }
    chunk->resize(static_cast<size_t>(n));
    request->offset_ += static_cast<uint64_t>(n);
    const bool end = request->offset_ >= request->size_;
    buffer::Buffer data;
    data.addShared(chunk);
    ResponseCallbacks& callbacks = request->callbacks_;
    if (end) finish(id);
    callbacks.onResponseData(data, end);
    // The callback may have cancelled or paused the request.
    if (!end) resume(id);
  }

  void respondText(uint64_t id, int status, std::string body) {
    FileRequest* request = find(id);
    if (request == nullptr) return;
    ResponseCallbacks& callbacks = request->callbacks_;
    const bool head = request->head_;
    finish(id);
    auto headers = std::make_unique<http::ResponseHeaders>();
    headers->status = status;
    headers->headers.add("content-type", "text/plain; charset=utf-8");
    headers->headers.add("content-length", std::to_string(body.size()));
    if (head || body.empty()) {
      callbacks.onResponseHeaders(std::move(headers), true);
      return;
    }
    // The request is retired: deliver the body in the same turn, as a
    // terminal pair.
    callbacks.onResponseHeaders(std::move(headers), false);
    buffer::Buffer data;
    data.add(body);
    callbacks.onResponseData(data, true);
  }

  // The request's last callback is about to run: it is retired first, so
  // that a cancel() from inside that callback finds nothing to do.
  void finish(uint64_t id) { cancel(id); }

  event::Dispatcher& dispatcher_;
  common::ThreadPool& pool_;
  std::shared_ptr<DispatcherLink> link_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  absl::flat_hash_map<uint64_t, std::unique_ptr<FileRequest>> requests_;
  uint64_t last_id_ = 0;
};

void FileRequest::cancel() { client_.cancel(id_); }

void FileRequest::readDisable(bool disable) {
  read_disabled_ = disable;
  if (!disable) client_.resume(id_);
}

}  // namespace

std::unique_ptr<HttpClient> createFileOriginClient(event::Dispatcher& dispatcher,
                                                   common::ThreadPool& pool) {
  return std::make_unique<FileOriginClient>(dispatcher, pool);
}

}  // namespace modgate::upstream
