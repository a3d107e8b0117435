# Sourced by bin/npid4j, bin/java-native-env and bench/compare.sh: exports the native libraries'
# settings from src/main/resources/npid4j/native-env.properties (a value already set wins), and
# says where the machine's jemalloc is and how npid4j runs it (freed pages kept for reuse).
NPID4J_NATIVE_ENV_FILE="$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")/.." && pwd)/src/main/resources/npid4j/native-env.properties"
while IFS='=' read -r name value; do
  case "$name" in ''|'#'*) continue ;; esac
  if [ -z "$(printenv "$name" 2>/dev/null)" ]; then export "$name=$value"; fi
done < "$NPID4J_NATIVE_ENV_FILE"
# (awk reads all of ldconfig's list: stopping early would kill ldconfig with SIGPIPE, and pipefail
# plus set -e would then end the calling script without a word)
jemalloc_path() { ldconfig -p 2>/dev/null | awk '/libjemalloc\.so\.2 \(libc6,(x86-64|AArch64)/ && !found { print $NF; found = 1 }'; }
JEMALLOC_CONF_DEFAULT="retain:true,dirty_decay_ms:-1,muzzy_decay_ms:-1"
