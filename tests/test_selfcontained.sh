#!/usr/bin/env bash
# test_selfcontained.sh [BUILD_DIR] — the repository cites nothing its users
# do not have.
#
# Every tracked file (git ls-files; without git: find, less build outputs,
# .git and tests/ref/) is searched for citations of documents that live
# outside the repository: a path into a sibling "shared" checkout, the
# design notes (STYLE / DESIGN), a private specification cited by section
# ("spec" followed by a section mark or number, "spec appendix", "(spec "),
# and the section mark itself (the paper is cited as "Sec. 3.2", "Fig. 7B",
# "Table 3"; dale's own reference notes as docs/reference-behaviour.md).
# Then every relative markdown link of a tracked .md file (with its #anchor),
# and every docs/*.md path named anywhere, must exist in the repository.
#
# The build dir argument is accepted (make test passes it) and not used.
set -u
cd "$(dirname "$0")/.." || exit 2

PASS=0
FAILS=0
ok() { PASS=$((PASS + 1)); echo "ok $1"; }
fail() { FAILS=$((FAILS + 1)); echo "FAIL $1: $2"; }

SELF=tests/test_selfcontained.sh
LIST=$(mktemp "${TMPDIR:-/tmp}/dale-selfcontained.XXXXXX") || exit 2
HITS=$(mktemp "${TMPDIR:-/tmp}/dale-selfcontained.XXXXXX") || exit 2
trap 'rm -f "$LIST" "$HITS"' EXIT

if command -v git >/dev/null 2>&1 && git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git ls-files -z | tr '\0' '\n' >"$LIST"
    how="git ls-files"
else
    find . -type f ! -path './.git/*' ! -path './build*' ! -path './tests/ref/*' \
        ! -path './runs/*' ! -path './data/*' | sed 's|^\./||' >"$LIST"
    how="find"
fi
# this file names the patterns; the recorded reference outputs are data
grep -v -x -e "$SELF" -e 'tests/ref/.*' "$LIST" >"$LIST.tmp" && mv "$LIST.tmp" "$LIST"
nfiles=$(grep -c . "$LIST")
if [ "$nfiles" -gt 50 ]; then ok "file list ($how): $nfiles files"; else fail "file list ($how)" "only $nfiles files"; fi

# scan WHAT GREP-ARGS... — no tracked file may match (text files only).
scan() {
    local what=$1
    shift
    tr '\n' '\0' <"$LIST" | xargs -0 grep -I -n -H "$@" -- >"$HITS" 2>/dev/null
    if [ -s "$HITS" ]; then
        fail "no $what" "$(wc -l <"$HITS") line(s), e.g.
$(head -n 12 "$HITS" | cut -c1-200 | sed 's/^/      /')"
    else
        ok "no $what"
    fi
}

scan "path into a sibling shared/ checkout" -E -e '\.\./shared' -e 'shared/(reference|paper|DESIGN|STYLE)' \
    -e '(^|[^A-Za-z0-9_./-])reference/[A-Za-z0-9_-]+\.md' -e 'data-sources'
scan "citation of the design notes" -E -e '(STYLE|DESIGN)\.md' -e '(STYLE|DESIGN) §'
scan "citation of a specification by section" -i -E \
    -e 'spec(\.md)? ?§' -e 'spec\.md' -e 'spec [0-9]+\.[0-9]' -e 'spec section' -e 'spec appendix'

scan "'(spec ' citation" -F -e '(spec '
scan "section mark (cite the paper as Sec. N)" -F -e '§'

# slug FILE — the anchors of FILE's headings, GitHub style, reduced to ASCII
# (lower case; characters other than letters, digits, space, '_' and '-'
# dropped; spaces to '-'), one a line.  Anchors are compared in the same
# ASCII reduction, so headings with Greek letters or symbols still match.
slugs() {
    grep -E '^#{1,6} ' "$1" | sed -E 's/^#+ +//' | LC_ALL=C tr 'A-Z' 'a-z' |
        LC_ALL=C sed -E 's/[^a-z0-9 _-]//g; s/ /-/g'
}

# Relative markdown links of every tracked .md file (README.md, docs/, ...)
# must resolve, and so must their #anchors into markdown files.
bad=0
checked=0
while IFS= read -r md; do
    case $md in *.md) ;; *) continue ;; esac
    [ -f "$md" ] || continue
    dir=$(dirname "$md")
    # [text](target) — the target up to ')' or a space (a title follows)
    while IFS= read -r line; do
        ln=${line%%:*}
        target=${line#*:}
        case $target in
            http://* | https://* | mailto:*) continue ;;
        esac
        path=${target%%#*}
        anchor=
        case $target in *'#'*) anchor=${target#*#} ;; esac
        if [ -n "$path" ]; then file=$dir/$path; else file=$md; fi
        checked=$((checked + 1))
        if [ ! -e "$file" ]; then
            bad=$((bad + 1))
            [ $bad -le 12 ] && echo "      $md:$ln: ($target) does not exist"
        elif [ -n "$anchor" ] && [ "${file%.md}" != "$file" ]; then
            want=$(printf '%s' "$anchor" | LC_ALL=C sed -E 's/[^a-z0-9_-]//g')
            if ! slugs "$file" | grep -q -x -F -e "$want"; then
                bad=$((bad + 1))
                [ $bad -le 12 ] && echo "      $md:$ln: ($target) names no heading of $file"
            fi
        fi
    done < <(grep -n -o -E '\]\([^) ]+' "$md" | sed -E 's/^([0-9]+):\]\(/\1:/')
done <"$LIST"
if [ $bad -eq 0 ]; then ok "markdown links resolve ($checked relative links)"; else fail "markdown links resolve" "$bad of $checked broken"; fi

# Every docs/NAME.md named anywhere (comments, help texts, docs) exists.
: >"$HITS"
tr '\n' '\0' <"$LIST" | xargs -0 grep -I -o -H -E 'docs/[A-Za-z0-9_-]+\.md' -- 2>/dev/null | sort -u | while IFS= read -r hit; do
    p=${hit#*:}
    [ -e "$p" ] || echo "$hit" >>"$HITS"
done
if [ -s "$HITS" ]; then
    fail "named docs/*.md files exist" "$(head -n 12 "$HITS" | tr '\n' ' ')"
else
    ok "named docs/*.md files exist"
fi

echo "$PASS passed, $FAILS failed"
[ "$FAILS" -eq 0 ]
