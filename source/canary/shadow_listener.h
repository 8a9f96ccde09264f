#pragma once

#include <string>

#include "source/common/crypto/sha256.h"

namespace modgate::canary {

using crypto::Sha256Digest;

// Identifies one immutable artifact: a module version's .info, .mod or .zip.
struct ArtifactKey {
  std::string module;
  std::string version;
  // The artifact's suffix as in the request path: "info", "mod", "zip".
  std::string artifact;
};

// The served body and the shadow's body for the same artifact.
struct ShadowComparison {
  ArtifactKey key;
  Sha256Digest served;
  Sha256Digest shadow;

  bool matched() const { return served == shadow; }
};

// Told of every completed comparison: where the server counts it in the
// canary's window (OutcomeRecorder::recordShadow) and logs a mismatch with
// its module and version. Called on whichever thread completed the pair,
// with no lock held.
class ShadowListener {
 public:
  virtual ~ShadowListener() = default;

  virtual void onComparison(const ShadowComparison& comparison) = 0;
};

}  // namespace modgate::canary
