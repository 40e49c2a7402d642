#!/usr/bin/env bash
# demo-setup.sh DATA ADDR: creates the demo principals in DATA once (alice, a
# data subject; bob and carol, controllers; admin) with `stickyd principal
# add`, keeps their tokens in DATA/demo-tokens.env (mode 0600), and prints how
# to try the server. Running it again only prints.
# DATA is relative to the current directory (make run: the repository root).
set -euo pipefail
DATA=${1:-./sticky-data}
ADDR=${2:-127.0.0.1:8080}
STICKYD=${STICKYD:-$(dirname "$0")/../bin/stickyd}
TOKENS="$DATA/demo-tokens.env"
URL="http://$ADDR"

if [ ! -x "$STICKYD" ]; then
  echo "demo-setup: $STICKYD is missing; run 'make build' first" >&2
  exit 1
fi

umask 077
mkdir -p "$DATA"

if [ ! -s "$TOKENS" ]; then
  tmp=$(mktemp "$DATA/.demo-tokens.XXXXXX")
  trap 'rm -f "$tmp"' EXIT
  echo "# Demo principals of this Sticky data directory. Load with: . $TOKENS" >"$tmp"
  echo "export STICKY_URL=$URL" >>"$tmp"
  add() { # VAR ROLE NAME
    local tok
    if ! tok=$("$STICKYD" principal add --data "$DATA" --role "$2" --email "$3" "$3"); then
      echo "demo-setup: could not create the demo principal $3." >&2
      echo "demo-setup: if $DATA already has it but $TOKENS is gone, start over with: rm -rf $DATA" >&2
      exit 1
    fi
    echo "export $1=$tok" >>"$tmp"
  }
  add ALICE_TOKEN subject alice@example.org
  add BOB_TOKEN controller bob@example.org
  add CAROL_TOKEN controller carol@example.org
  add ADMIN_TOKEN admin admin@example.org
  chmod 600 "$tmp"
  mv "$tmp" "$TOKENS"
  trap - EXIT
  echo "Created the demo principals alice@example.org (subject), bob@example.org and"
  echo "carol@example.org (controllers) and admin@example.org (admin); tokens in $TOKENS."
fi

cat <<MSG

Sticky is starting on $URL with its data in $DATA.
In another terminal, from this directory:

  . $TOKENS        # exports STICKY_URL, ALICE_TOKEN, BOB_TOKEN, CAROL_TOKEN, ADMIN_TOKEN

  # alice stores her address under a sticky policy: bob may use it for service provision
  ID=\$(curl -s -H "Authorization: Bearer \$ALICE_TOKEN" \\
        -F data=@examples/alice-address.txt -F policy=@examples/alice-policy.xml \\
        \$STICKY_URL/v1/pii | sed -n 's/.*"id": *"\([^"]*\)".*/\1/p'); echo \$ID

  # bob reads it for an allowed purpose (200), then for another one (403)
  curl -s -H "Authorization: Bearer \$BOB_TOKEN" -H "X-Purpose: https://w3id.org/dpv#ServiceProvision" \$STICKY_URL/v1/pii/\$ID
  curl -s -H "Authorization: Bearer \$BOB_TOKEN" -H "X-Purpose: https://w3id.org/dpv#Marketing" \$STICKY_URL/v1/pii/\$ID

  # alice sees every decision and her inbox, then deletes the record
  curl -s -H "Authorization: Bearer \$ALICE_TOKEN" \$STICKY_URL/v1/pii/\$ID/events
  curl -s -H "Authorization: Bearer \$ALICE_TOKEN" \$STICKY_URL/v1/notifications
  curl -s -o /dev/null -w '%{http_code}\\n' -X DELETE -H "Authorization: Bearer \$ALICE_TOKEN" \$STICKY_URL/v1/pii/\$ID

The same with the client: STICKY_TOKEN=\$ALICE_TOKEN ./bin/sticky put --policy examples/alice-policy.xml examples/alice-address.txt
README.md has the whole walkthrough. Stop the server with Ctrl-C.

MSG
