#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

// Signed notes (golang.org/x/mod/sumdb/note): a text, a blank line, and
// signature lines "— <name> <base64(4-byte key hash || signature)>". The
// checksum database signs its tree heads this way with Ed25519.
namespace modgate::sumdb {

// A verifier key, "<name>+<8 hex digits key hash>+<base64(0x01 || 32-byte
// Ed25519 public key)>", e.g. the one sum.golang.org publishes.
class NoteVerifier {
 public:
  // Checks the syntax, that the hash is the key's (SHA-256 of
  // "<name>\n<key>", first 4 bytes), and that the algorithm is Ed25519.
  // Errors read "malformed verifier key: ..." so a config can quote them.
  static absl::StatusOr<NoteVerifier> Parse(std::string_view vkey);

  const std::string& name() const { return name_; }
  uint32_t keyHash() const { return hash_; }
  bool verify(std::string_view message, std::string_view signature) const;

 private:
  std::string name_;
  uint32_t hash_ = 0;
  std::string public_key_;  // 32 bytes
};

// Opens a signed note (note.Open with one known verifier): returns the
// note's text (ending in '\n') when a signature line of `verifier`'s name
// and key hash verifies; signatures by other keys are ignored, as Go does.
// Errors: malformed note, no signature by the key, invalid signature.
absl::StatusOr<std::string> OpenNote(std::string_view msg, const NoteVerifier& verifier);

}  // namespace modgate::sumdb
