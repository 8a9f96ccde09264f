#pragma once

#include <zlib.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "source/sumdb/digest.h"
#include "source/sumdb/zip_hash.h"
#include "source/sumdb/zip_range.h"

// The go.sum hash of a module zip computed while the zip streams in, so
// verification does not wait for a second pass over the file once the
// last byte is there.
//
// A zip's authority is its central directory, at the end; the go command
// reads entries through it. The local file headers come first, in order,
// each followed by its data: update() walks them as bytes arrive, inflates
// each entry (the compressed size is known when the deflate stream ends,
// even when a data descriptor follows) and SHA-256s its content. finish()
// then reads the central directory (nothing is inflated again) and accepts
// the streamed hashes only if it names exactly the streamed entries: same
// count, order, names, data offsets, methods, CRC-32 and sizes. Then every
// entry the go command would read is the bytes that were hashed, and the
// result is HashZipFile's.
//
// Anything else (encryption, a method other than stored or deflate, ZIP64,
// a stored entry with a data descriptor, bytes that are not a header where
// one should be, a limit exceeded, a central directory that disagrees) is
// not an error here: the hasher gives up, and the caller hashes the file
// with HashZipFile, whose answer (hash or error) is the one that counts.
namespace modgate::sumdb {

class StreamingZipHasher {
 public:
  explicit StreamingZipHasher(const ZipLimits& limits = {});
  ~StreamingZipHasher();
  StreamingZipHasher(const StreamingZipHasher&) = delete;
  StreamingZipHasher& operator=(const StreamingZipHasher&) = delete;

  // The next bytes of the zip, in order, in chunks of any size. Cheap once
  // the central directory is reached or the hasher gave up.
  void update(std::string_view bytes);
  // True once the streamed entries can no longer be used.
  bool gaveUp() const { return state_ == State::kGaveUp; }
  // Bytes given to update() so far.
  uint64_t bytesSeen() const { return seen_; }

  // Every byte was given: the Hash1 of the zip if its central directory,
  // read from bytes [offset, offset + length) of `fd` (pread; blocking),
  // matches the streamed entries; nullopt to fall back to HashZipFile.
  std::optional<std::string> finishFile(int fd, uint64_t offset, uint64_t length);
  // The same over the zip in memory (tests, fuzzing).
  std::optional<std::string> finishBytes(std::string_view zip);

 private:
  enum class State {
    kSignature,     // 4 bytes: a local header, or the central directory
    kLocalHeader,   // the 30 fixed bytes of a local file header
    kNameAndExtra,  // the name and extra field that follow them
    kStored,        // a stored entry's bytes
    kDeflated,      // a deflated entry's stream, up to its end
    kDescriptor,    // the data descriptor after a deflated entry
    kDone,          // the central directory began: nothing more to stream
    kGaveUp,
  };
  // One entry as its local header and data showed it.
  struct Entry {
    std::string name;
    uint16_t flags = 0;
    uint16_t method = 0;
    uint32_t crc = 0;
    uint64_t compressed_size = 0;
    uint64_t uncompressed_size = 0;
    // Offset of the entry's data (after its local header) in the zip.
    uint64_t data_offset = 0;
    Sha256Digest digest{};
  };

  // Moves up to need_ bytes into header_; true once it holds need_.
  bool gather(std::string_view& bytes);
  void onHeaderBytes();
  void startEntry();
  void consumeStored(std::string_view& bytes);
  void consumeDeflated(std::string_view& bytes);
  void addContent(const void* data, size_t size);
  void endEntry();
  void checkDescriptor();
  void giveUp();
  std::optional<std::string> finish(ZipByteRange& range);

  const ZipLimits limits_;
  State state_ = State::kSignature;
  uint64_t seen_ = 0;
  // Bytes the parser has taken (header bytes gathered included).
  uint64_t consumed_ = 0;
  // Header bytes gathered so far, and how many the state needs.
  std::string header_;
  size_t need_ = 4;
  std::vector<Entry> entries_;
  Entry current_;
  Sha256 sha_;
  uint32_t crc_ = 0;
  uint64_t uncompressed_total_ = 0;
  uint64_t stored_left_ = 0;
  z_stream inflate_{};
  bool inflate_ready_ = false;
  std::vector<unsigned char> out_;
};

}  // namespace modgate::sumdb
