#!/usr/bin/env bash
# test_slurm_quoting.sh — `dale sweep --slurm` with hostile names: spec file
# names, --out directories, sweep names, a --scale name and the path of the
# dale executable holding spaces, quotes, $(...), backticks and `;`.  Every
# generated script must pass `bash -n`, and when run (with a stand-in dale
# at the executable's path that records its argv, stand-in sbatch/srun first
# on PATH, SLURM_ARRAY_TASK_ID set) must call dale with exactly the intended
# arguments and run none of the embedded commands; the same with the Slurm
# options (partition, account, time, memory, user #SBATCH lines, 2 runs per
# task), whose unsafe values are refused.  Names with a newline or
# another control character are refused (exit 2) before a script is written.
set -u
. "$(dirname "$0")/lib.sh"
lib_init "${1:-}"
cd "$T" || exit 1

# A copy of dale at a hostile path: the script names the executable that
# wrote it, so that path is quoted too.  After writing each script the copy
# is swapped for the recording stand-in and back.
xdir="$T/bin \$(touch PWNED_exe) 'q'"
mkdir -p "$xdir" fake
cp "$DALE" "$xdir/dale.real"
cat >fake/dale-rec <<'S'
#!/bin/bash
for a in "$@"; do printf '%s\n' "$a"; done >"$REC"
S
cat >fake/sbatch <<'S'
#!/bin/bash
echo "sbatch $*" >>"$CALLS"
S
cp fake/sbatch fake/srun
sed -i 's/sbatch \$/srun $/' fake/srun
chmod +x fake/dale-rec fake/sbatch fake/srun
export CALLS="$T/calls.txt"

spec_json() { # NAME — a two-run spec with that sweep name (JSON-escaped by the caller)
    printf '{"name": "%s", "base": {"task": "adding", "adding_n": 200, "adding_test": 50, "max_updates": 0},
 "runs": [{"label": "a", "model": "rnn"}, {"label": "b", "model": "colei"}],
 "scales": {"q x'"'"'$(touch PWNED_scale)`touch PWNED_scale2`;\\"": {"base": {"max_updates": 1}}}}\n' "$1"
}

# check WHAT SPEC OUT [SCALE] — write the script, bash -n it, run it with the
# stand-ins and compare the recorded argv with the intended one.
check() {
    local what=$1 spec=$2 out=$3 scale=${4-}
    local args=(sweep "$spec" --out "$out" --slurm)
    [ -n "$scale" ] && args+=(--scale "$scale")
    "$xdir/dale.real" "${args[@]}" >"$T/out" 2>"$T/err"
    RC=$?
    local sb="$out/slurm/sweep.sbatch"
    if [ "$RC" -ne 0 ] || [ ! -f "$sb" ]; then fail "$what: script written" "rc $RC $(err1)"; return; fi
    if bash -n "$sb" 2>"$T/synerr"; then ok "$what: bash -n"; else fail "$what: bash -n" "$(head -c 200 "$T/synerr")"; fi
    if grep -q '^#SBATCH --job-name=dale-[A-Za-z0-9._-]*$' "$sb"; then ok "$what: job name of safe characters"
    else fail "$what: job name" "$(grep -- --job-name "$sb")"; fi
    # The stand-in takes the executable's place for the run of the script.
    mv "$xdir/dale.real" "$xdir/dale.keep"
    cp fake/dale-rec "$xdir/dale.real"
    rm -f rec.txt "$CALLS"
    (cd "$T" && REC="$T/rec.txt" SLURM_ARRAY_TASK_ID=1 PATH="$T/fake:$PATH" bash "$sb") >/dev/null 2>"$T/runerr"
    local rrc=$?
    mv -f "$xdir/dale.keep" "$xdir/dale.real"
    local id want
    id=$(sed -n 2p "$out/slurm/pending.txt")
    want=$(printf '%s\n' sweep "$spec" --out "$out")
    [ -n "$scale" ] && want=$(printf '%s\n%s\n' "$want" --scale "$scale")
    want=$(printf '%s\n' "$want" --jobs 1 --only "$id")
    if [ "$rrc" -eq 0 ] && [ -f rec.txt ] && [ "$(cat rec.txt)" = "$want" ] && [ -n "$id" ]; then
        ok "$what: the script calls dale with exactly the intended arguments"
    else
        fail "$what: argv" "rc $rrc, got [$(tr '\n' '|' <rec.txt 2>/dev/null)] want [$(echo "$want" | tr '\n' '|')] $(head -c 200 "$T/runerr")"
    fi
    local pw
    pw=$(find "$T" -name 'PWNED*' | head -n 3 | tr '\n' ' ')
    [ -z "$pw" ] && ok "$what: no embedded command ran" || fail "$what: embedded command ran" "$pw"
    rm -f "$T"/PWNED*
}

hostile_specs=(
    'spec $(touch PWNED_1).json'
    "it's \"quoted\".json"
    'back`touch PWNED_2`tick.json'
    'semi;touch PWNED_3;.json'
    'sp  ace \ slash.json'
)
for s in "${hostile_specs[@]}"; do spec_json plain >"$s"; done
for s in "${hostile_specs[@]}"; do check "spec '$s'" "$s" "o_$(echo "$s" | tr -c 'a-z' '_')"; done

spec_json plain >plain.json
for o in 'out $(touch PWNED_4)' "o'q\"d" 'o`touch PWNED_5`' 'o;touch PWNED_6;' 'o 100%a %%x #h'; do
    check "out '$o'" plain.json "$o"
done

n=0
for name in 'n $(touch PWNED_7)' "n'q\\\"d" 'n`touch PWNED_8`' 'n;touch PWNED_9' 'n #c'; do
    n=$((n + 1))
    spec_json "$name" >"name$n.json"
    check "sweep name '$name'" "name$n.json" "nm$n"
done

check "--scale with quotes and \$(...)" plain.json sc "q x'\$(touch PWNED_scale)\`touch PWNED_scale2\`;\""

# The task log path as sbatch reads it: in double quotes, " escaped, % doubled.
o='o 100%a %%x #h'
want="#SBATCH --output=\"o 100%%a %%%%x #h/slurm/task-%a.out\""
grep -qxF -- "$want" "$o/slurm/sweep.sbatch" && ok "#SBATCH --output quoted for sbatch" \
    || fail "#SBATCH --output" "$(grep -- --output "$o/slurm/sweep.sbatch")"
[ ! -s "$CALLS" ] && ok "the script calls neither sbatch nor srun itself" || fail "sbatch/srun" "$(cat "$CALLS")"

# --- the Slurm options' values: a chunk of 2 runs per task, partition, account,
# time, memory and user #SBATCH lines holding $(...) and backticks (comments to
# bash); the task runs exactly its two runs and nothing embedded
"$xdir/dale.real" sweep plain.json --out chunk --slurm --runs-per-task 2 --partition 'p_1,p-2' --account 'a.b@c' \
    --time 0-01:00:00 --mem 2G --sbatch-line '--comment=x$(touch PWNED_sb)`touch PWNED_sb2`' --requeue >/dev/null 2>"$T/err"
sb=chunk/slurm/sweep.sbatch
if [ -f "$sb" ] && bash -n "$sb"; then ok "script with every Slurm option: bash -n"; else fail "options script" "$(err1)"; fi
cat >fake/dale-app <<'S'
#!/bin/bash
for a in "$@"; do printf '%s\n' "$a"; done >>"$REC"
S
chmod +x fake/dale-app
mv "$xdir/dale.real" "$xdir/dale.keep"
cp fake/dale-app "$xdir/dale.real"
rm -f rec.txt
(cd "$T" && REC="$T/rec.txt" SLURM_ARRAY_TASK_ID=0 PATH="$T/fake:$PATH" bash "$sb") >/dev/null 2>"$T/runerr"
rrc=$?
mv -f "$xdir/dale.keep" "$xdir/dale.real"
want=$(for k in 1 2; do printf '%s\n' sweep plain.json --out chunk --jobs 1 --only "$(sed -n ${k}p chunk/slurm/pending.txt)"; done)
[ "$rrc" -eq 0 ] && [ "$(cat rec.txt 2>/dev/null)" = "$want" ] && ok "task 0 of 2-run chunks calls dale for runs 1 and 2, exactly" \
    || fail "chunk argv" "rc $rrc [$(tr '\n' '|' <rec.txt 2>/dev/null)] $(head -c 200 "$T/runerr")"
[ -z "$(find "$T" -name 'PWNED*')" ] && ok "nothing embedded in an #SBATCH line ran" || fail "sbatch line ran" "$(find "$T" -name 'PWNED*')"
expect_exit 2 "a partition with \$(...) is refused" "--partition" sweep plain.json --out ph --slurm --partition 'x$(touch PWNED_p)'
expect_exit 2 "an account with a quote is refused" "--account" sweep plain.json --out ph --slurm --account "a'b"
expect_exit 2 "a time with a ; is refused" "--time" sweep plain.json --out ph --slurm --time '10;touch PWNED_t'
expect_exit 2 "a memory size with a space is refused" "--mem" sweep plain.json --out ph --slurm --mem '1G x'
expect_exit 2 "an #SBATCH line with a newline is refused" "control character" sweep plain.json --out ph --slurm \
    --sbatch-line $'--qos=a\ntouch PWNED_nl3'
[ ! -e ph/slurm/sweep.sbatch ] && ok "no script written for those" || fail "option refusals" "script written"

# --- refused: newline, tab and other control characters ----------------------
spec_json 'a\nb $(touch PWNED_nl)' >nl.json
expect_exit 2 "a sweep name with a newline is refused" "control character" sweep nl.json --out nlo --slurm
[ ! -e nlo/slurm/sweep.sbatch ] && ok "no script written for it" || fail "newline name" "script written"
spec_json 'a\tb' >tab.json
expect_exit 2 "a sweep name with a tab is refused" "sweep name holds a control character" sweep tab.json --out tabo --slurm
nlspec=$'spec\n$(touch PWNED_nl2).json'
spec_json plain >"$nlspec"
expect_exit 2 "a spec path with a newline is refused" "spec path holds a control character" \
    sweep "$nlspec" --out nlso --slurm
[ ! -e nlso/slurm/sweep.sbatch ] && ok "no script written for it" || fail "newline spec" "script written"
expect_exit 2 "an --out directory with a newline is refused" "--out directory holds a control character" \
    sweep plain.json --out $'o\nx' --slurm
expect_exit 2 "an --out directory with a backslash is refused" "backslash" sweep plain.json --out 'o\x' --slurm
pw=$(find "$T" -name 'PWNED*' | head -n 3 | tr '\n' ' ')
[ -z "$pw" ] && ok "refusals ran nothing" || fail "refusals" "$pw"

lib_finish
