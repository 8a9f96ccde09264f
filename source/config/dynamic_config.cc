#include "source/config/dynamic_config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>

#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "source/config/error_list.h"

namespace modgate::config {
namespace {

// Appends `dynamic` to `merged`, reporting names already there.
template <typename Resource>
void AppendNamed(const google::protobuf::RepeatedPtrField<Resource>& dynamic,
                 google::protobuf::RepeatedPtrField<Resource>& merged, absl::string_view field,
                 ErrorList& errors) {
  std::map<std::string, int> static_names;
  for (int i = 0; i < merged.size(); ++i) static_names.emplace(merged.Get(i).name(), i);
  for (const Resource& resource : dynamic) {
    const int index = merged.size();
    *merged.Add() = resource;
    if (static_names.contains(resource.name())) {
      errors.Add(absl::StrCat(field, "[", index, "].name"),
                 absl::StrCat("\"", resource.name(),
                              "\" is defined both in the local file and by the control plane"));
    }
  }
}

absl::Status ErrnoError(absl::string_view what, const std::string& path) {
  return absl::InternalError(absl::StrCat(what, " ", path, ": ", std::strerror(errno)));
}

absl::Status MakeDirs(const std::string& dir) {
  for (size_t slash = dir.find('/', 1);; slash = dir.find('/', slash + 1)) {
    const std::string prefix = slash == std::string::npos ? dir : dir.substr(0, slash);
    if (mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST) return ErrnoError("mkdir", prefix);
    if (slash == std::string::npos) return absl::OkStatus();
  }
}

}  // namespace

absl::StatusOr<v1::Bootstrap> MergeDynamicConfig(const v1::Bootstrap& local,
                                                 const v1::DynamicConfig& dynamic) {
  v1::Bootstrap merged = local;
  ErrorList errors;
  AppendNamed(dynamic.listeners(), *merged.mutable_listeners(), "listeners", errors);
  AppendNamed(dynamic.clusters(), *merged.mutable_clusters(), "clusters", errors);
  AppendNamed(dynamic.sumdbs(), *merged.mutable_sumdbs(), "sumdbs", errors);
  for (const v1::Route& route : dynamic.routes()) *merged.add_routes() = route;
  for (const auto& [key, value] : dynamic.runtime()) (*merged.mutable_runtime())[key] = value;
  if (absl::Status status = errors.ToStatus(); !status.ok()) return status;
  return merged;
}

std::string DeterministicBytes(const v1::DynamicConfig& dynamic) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream output(&bytes);
    google::protobuf::io::CodedOutputStream coded(&output);
    coded.SetSerializationDeterministic(true);
    dynamic.SerializeToCodedStream(&coded);
  }  // the coded stream flushes into `bytes` here
  return bytes;
}

std::string DynamicConfigPath(const std::string& cache_dir) {
  return absl::StrCat(cache_dir, "/control_plane/last_acked.pb");
}

absl::Status SaveDynamicConfig(const std::string& path, const v1::DynamicConfig& dynamic) {
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
  if (absl::Status status = MakeDirs(dir); !status.ok()) return status;
  std::string bytes;
  if (!dynamic.SerializeToString(&bytes)) {
    return absl::InternalError("cannot serialize the dynamic config");
  }
  const std::string temp = absl::StrCat(path, ".tmp.", getpid());
  int fd = open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoError("open", temp);
  size_t written = 0;
  while (written < bytes.size()) {
    ssize_t n = write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      absl::Status status = ErrnoError("write", temp);
      close(fd);
      unlink(temp.c_str());
      return status;
    }
    written += static_cast<size_t>(n);
  }
  if (fsync(fd) != 0) {
    absl::Status status = ErrnoError("fsync", temp);
    close(fd);
    unlink(temp.c_str());
    return status;
  }
  close(fd);
  if (rename(temp.c_str(), path.c_str()) != 0) {
    absl::Status status = ErrnoError("rename", temp);
    unlink(temp.c_str());
    return status;
  }
  // The rename itself is durable only once the directory is.
  int dir_fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    fsync(dir_fd);
    close(dir_fd);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<v1::DynamicConfig>> LoadDynamicConfig(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::nullopt;
    return ErrnoError("open", path);
  }
  std::string bytes;
  char chunk[64 * 1024];
  for (;;) {
    ssize_t n = read(fd, chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      absl::Status status = ErrnoError("read", path);
      close(fd);
      return status;
    }
    if (n == 0) break;
    bytes.append(chunk, static_cast<size_t>(n));
  }
  close(fd);
  v1::DynamicConfig dynamic;
  if (!dynamic.ParseFromString(bytes)) {
    return absl::DataLossError(absl::StrCat(path, ": not a saved dynamic config"));
  }
  return dynamic;
}

}  // namespace modgate::config
