# Source this file: puts the project's cached Node and built binaries first
# on PATH and exports NETBENCH_CACHE for tests and the lab.
#
# The PATH entries derive from scripts/versions.env: every <NAME>_VERSION=<v>
# there has its build cached as $NETBENCH_CACHE/<component>-<v>/bin
# (scripts/setup.sh), so a new component is a line in versions.env and its
# build function in setup.sh, nothing here.
_nb_here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$_nb_here/versions.env"
export NETBENCH_CACHE="${NETBENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/netbench}"
while IFS='=' read -r _nb_k _nb_v; do
  case "$_nb_k" in
    *_VERSION)
      for _nb_d in "$NETBENCH_CACHE"/*-"$_nb_v"/bin; do
        [ -d "$_nb_d" ] && case ":$PATH:" in *":$_nb_d:"*) ;; *) PATH="$_nb_d:$PATH" ;; esac
      done ;;
  esac
done < "$_nb_here/versions.env"
export PATH
unset _nb_d _nb_here _nb_k _nb_v
