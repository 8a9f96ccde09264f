#include "source/sumdb/note.h"

#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "source/common/tls/boringssl.h"
#include "source/sumdb/digest.h"

namespace modgate::sumdb {
namespace {

constexpr uint8_t kAlgEd25519 = 1;
// U+2014 EM DASH and a space start every signature line.
constexpr std::string_view kSigPrefix = "\xe2\x80\x94 ";

uint32_t computeKeyHash(std::string_view name, std::string_view key) {
  Sha256 sha;
  sha.update(name);
  sha.update("\n");
  sha.update(key);
  const Sha256Digest sum = sha.finish();
  return (uint32_t{sum[0]} << 24) | (uint32_t{sum[1]} << 16) | (uint32_t{sum[2]} << 8) | sum[3];
}

// note.isValidName: non-empty, no spaces, no '+'. Names are host names in
// practice; anything outside printable ASCII is refused here.
bool validName(std::string_view name) {
  if (name.empty()) return false;
  for (unsigned char c : name) {
    if (c <= 0x20 || c >= 0x7f || c == '+') return false;
  }
  return true;
}

// Valid UTF-8 with no control characters but '\n' (note.Open's first check).
bool validNoteBytes(std::string_view msg) {
  size_t i = 0;
  while (i < msg.size()) {
    const unsigned char c = static_cast<unsigned char>(msg[i]);
    if (c < 0x80) {
      if (c < 0x20 && c != '\n') return false;
      ++i;
      continue;
    }
    int len;
    uint32_t cp;
    if ((c & 0xe0) == 0xc0) {
      len = 2;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      len = 3;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > msg.size()) return false;
    for (int k = 1; k < len; ++k) {
      const unsigned char cc = static_cast<unsigned char>(msg[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      return false;
    }
    i += len;
  }
  return true;
}

}  // namespace

absl::StatusOr<NoteVerifier> NoteVerifier::Parse(std::string_view vkey) {
  auto bad = [](std::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("malformed verifier key: ", std::string(why)));
  };
  const size_t plus1 = vkey.find('+');
  if (plus1 == std::string_view::npos) return bad("want <name>+<hash>+<key>");
  const std::string_view name = vkey.substr(0, plus1);
  const std::string_view rest = vkey.substr(plus1 + 1);
  const size_t plus2 = rest.find('+');
  if (plus2 == std::string_view::npos) return bad("want <name>+<hash>+<key>");
  const std::string_view hash16 = rest.substr(0, plus2);
  const std::string_view key64 = rest.substr(plus2 + 1);
  if (!validName(name)) return bad("invalid name");
  uint32_t hash = 0;
  if (hash16.size() != 8) return bad("key hash must be 8 hex digits");
  for (char c : hash16) {
    int digit;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      digit = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      digit = c - 'A' + 10;
    } else {
      return bad("key hash must be 8 hex digits");
    }
    hash = (hash << 4) | static_cast<uint32_t>(digit);
  }
  auto key = Base64Decode(key64);
  if (!key.has_value() || key->empty()) return bad("key is not base64");
  if (hash != computeKeyHash(name, *key)) return bad("key hash does not match the key");
  if (static_cast<uint8_t>((*key)[0]) != kAlgEd25519) return bad("unknown algorithm (not Ed25519)");
  if (key->size() != 1 + 32) return bad("Ed25519 key must be 32 bytes");
  NoteVerifier verifier;
  verifier.name_ = std::string(name);
  verifier.hash_ = hash;
  verifier.public_key_ = key->substr(1);
  return verifier;
}

bool NoteVerifier::verify(std::string_view message, std::string_view signature) const {
  if (signature.size() != 64) return false;
  return ED25519_verify(reinterpret_cast<const uint8_t*>(message.data()), message.size(),
                        reinterpret_cast<const uint8_t*>(signature.data()),
                        reinterpret_cast<const uint8_t*>(public_key_.data())) == 1;
}

absl::StatusOr<std::string> OpenNote(std::string_view msg, const NoteVerifier& verifier) {
  const absl::Status malformed = absl::InvalidArgumentError("malformed note");
  if (!validNoteBytes(msg)) return malformed;
  const size_t split = msg.rfind("\n\n");
  if (split == std::string_view::npos) return malformed;
  const std::string_view text = msg.substr(0, split + 1);
  std::string_view sigs = msg.substr(split + 2);
  if (sigs.empty() || sigs.back() != '\n') return malformed;

  bool verified = false;
  int count = 0;
  while (!sigs.empty()) {
    const size_t newline = sigs.find('\n');
    std::string_view line = sigs.substr(0, newline);
    sigs.remove_prefix(newline + 1);
    if (line.substr(0, kSigPrefix.size()) != kSigPrefix) return malformed;
    line.remove_prefix(kSigPrefix.size());
    const size_t space = line.find(' ');
    if (space == std::string_view::npos) return malformed;
    const std::string_view name = line.substr(0, space);
    const std::string_view b64 = line.substr(space + 1);
    auto sig = Base64Decode(b64);
    if (!sig.has_value() || !validName(name) || b64.empty() || sig->size() < 5) return malformed;
    if (++count > 100) return malformed;
    const uint32_t hash = (uint32_t{static_cast<uint8_t>((*sig)[0])} << 24) |
                          (uint32_t{static_cast<uint8_t>((*sig)[1])} << 16) |
                          (uint32_t{static_cast<uint8_t>((*sig)[2])} << 8) |
                          static_cast<uint8_t>((*sig)[3]);
    // Someone else's signature: not ours to judge (note.Open skips it).
    if (name != verifier.name() || hash != verifier.keyHash()) continue;
    if (!verifier.verify(text, std::string_view(*sig).substr(4))) {
      return absl::InvalidArgumentError(absl::StrCat("invalid signature for key ", verifier.name(),
                                                     "+", absl::Hex(hash, absl::kZeroPad8)));
    }
    verified = true;
  }
  if (!verified) {
    return absl::InvalidArgumentError(
        absl::StrCat("note has no verifiable signature by ", verifier.name()));
  }
  return std::string(text);
}

}  // namespace modgate::sumdb
