#pragma once

// gRPC's length-prefixed message framing (grpc/grpc doc/PROTOCOL-HTTP2.md,
// "Length-Prefixed-Message"): each message on an HTTP/2 stream's DATA is
//   1 byte  compressed flag (0: modgate never compresses)
//   4 bytes message length, big-endian
//   N bytes the serialized protobuf
// Messages may span DATA frames and one DATA frame may hold several, so the
// decoder is incremental: it keeps a partial message across calls.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "source/common/buffer/buffer.h"

namespace google::protobuf {
class MessageLite;
}

namespace modgate::grpc {

inline constexpr size_t kFrameHeaderBytes = 5;

// gRPC's own default for received messages; an xDS response with a few
// thousand clusters stays well under it.
inline constexpr uint32_t kDefaultMaxMessageBytes = 4 * 1024 * 1024;

// Appends one uncompressed frame holding `message` to `output`.
void encodeFrame(std::string_view message, buffer::Buffer& output);

// Serializes `message` deterministically (so equal messages give equal
// bytes, which content-hash versions rely on) and frames it.
void encodeMessage(const google::protobuf::MessageLite& message, buffer::Buffer& output);

// Splits a stream's DATA into messages.
class FrameDecoder {
 public:
  explicit FrameDecoder(uint32_t max_message_bytes = kDefaultMaxMessageBytes)
      : max_message_bytes_(max_message_bytes) {}

  // Drains `input` and appends every message completed by it to `messages`,
  // keeping a trailing partial frame for the next call. Returns an error with
  // the gRPC status code to end the stream with:
  //   RESOURCE_EXHAUSTED  a message above the maximum size (found from its
  //                       header, before its bytes are buffered);
  //   UNIMPLEMENTED       a compressed message (modgate accepts only
  //                       identity encoding);
  //   INTERNAL            a flag byte other than 0 or 1.
  // After an error the decoder stays failed and drains its input unread.
  absl::Status decode(buffer::Buffer& input, std::vector<std::string>& messages);

  // True when no partial frame is held: the end of the stream may fall here.
  bool atMessageBoundary() const { return partial_.length() == 0; }

  uint32_t maxMessageBytes() const { return max_message_bytes_; }

 private:
  const uint32_t max_message_bytes_;
  buffer::Buffer partial_;
  absl::Status failure_;
};

}  // namespace modgate::grpc
