# Sourced by bin/npid4j and bench/compare.sh: where the machine's jemalloc is, and the settings
# npid4j runs it with (freed pages kept for reuse, never decayed back to the system).
# (awk reads all of ldconfig's list: stopping early would kill ldconfig with SIGPIPE, and pipefail
# plus set -e would then end the calling script without a word)
jemalloc_path() { ldconfig -p 2>/dev/null | awk '/libjemalloc\.so\.2 \(libc6,(x86-64|AArch64)/ && !found { print $NF; found = 1 }'; }
JEMALLOC_CONF_DEFAULT="retain:true,dirty_decay_ms:-1,muzzy_decay_ms:-1"
