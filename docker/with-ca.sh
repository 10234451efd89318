#!/bin/sh
# Run a build step's command trusting an extra CA bundle when one is given as the BuildKit
# secret `ca_bundle` (a TLS-intercepting proxy's CA). The bundle is joined to the system's
# CAs in /run/ca, a tmpfs of that one step: it never lands in a layer of the image.
set -eu
secret=/run/secrets/ca_bundle
if [ -s "$secret" ]; then
    bundle=/run/ca/bundle.pem
    cat /etc/ssl/certs/ca-certificates.crt "$secret" > "$bundle" 2>/dev/null || cp "$secret" "$bundle"
    # pip, urllib (tiktoken's encodings) and requests each read their own variable.
    export PIP_CERT="$bundle" SSL_CERT_FILE="$bundle" REQUESTS_CA_BUNDLE="$bundle"
fi
exec "$@"
