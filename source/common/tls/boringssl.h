#pragma once

// The one header in modgate that includes BoringSSL. Every target that
// reaches it must depend on @boringssl//:ssl, which puts BoringSSL's headers
// ahead of OpenSSL 3's in /usr/include/openssl; without that dependency the
// OpenSSL 3 headers would be picked silently, and the check below fails.

#include <openssl/base.h>

#if !defined(OPENSSL_IS_BORINGSSL)
#error "modgate must be built against BoringSSL (@boringssl//:ssl), never OpenSSL"
#endif

#include <openssl/base64.h>
#include <openssl/bio.h>
#include <openssl/cipher.h>
#include <openssl/curve25519.h>
#include <openssl/digest.h>
#include <openssl/err.h>
#include <openssl/hmac.h>
#include <openssl/mem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
