#!/bin/sh
# hdr_primary: the primary header of chunk 4 zeroed (inject header); the
# copy in the chunk's last block is good.
. "$(dirname "$0")/../lib.sh"
std_image
inject 4 header
