#!/usr/bin/env bash
# GPU check on one GPU (each check times out after 240 s): one tiny DDGR run (2 experiences: the second replays, so
# guidance, the replay gather and DDP all run) and one bootstrapping stage of the DDPM, on cuda
# under `torchrun --nproc_per_node=1`, which starts a real nccl process group (collectives on CUDA
# tensors); then one `paper`-preset CIFAR-100 experience on fake CIFAR-100 files (bench/paper_step.py:
# the paper's ADM UNet guided by a SlimResNet18 solver, drift metrics with a SlimResNet18 RealAcc
# classifier; step counts cut), which checks the classes; then FID and the large-set OTDD variants
# on CUDA tensors at 50,000 points per side; OTDD's label cost on CUDA up to 1,000 classes; last, the mission's command itself,
# examples/split_cifar100_ddgr.py --preset paper, for one experience on fake CIFAR-100 files of the real size
# (bench/drift_scale.py --probe example: step counts cut and printed), with the time of every part of its
# drift evaluation (DriftTime/<part>). Prints PASS/FAIL and seconds per check; exit status 0 only if all pass.
#
#   bench/gpu_check.sh                     # uses python3 with the package's dependencies installed
#   PYTHON=.venv/bin/python bench/gpu_check.sh
# Logs go to $OUT/gpu_check (the device tool's output folder) or a temporary directory.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" TQDM_DISABLE=1 PYTHONUNBUFFERED=1
LOGS=${OUT:-$(mktemp -d)}/gpu_check
mkdir -p "$LOGS"
status=0

check() {  # check NAME COMMAND...: run it (at most $LIMIT s, default 240), print PASS/FAIL and wall seconds, keep its log
    local name=$1 t0 t1 result
    shift
    t0=$(date +%s%N)
    if timeout "${LIMIT:-240}" "$@" >"$LOGS/$name.log" 2>&1; then result=PASS; else result=FAIL; status=1; fi
    t1=$(date +%s%N)
    printf '%-34s %s %7.1f s\n' "$name" "$result" "$(( (t1 - t0) / 1000000 ))e-3"
    [ "$result" = PASS ] || tail -n 20 "$LOGS/$name.log"
}

"$PY" -c "import torch; assert torch.cuda.is_available(), 'no CUDA device'; print('GPU:', torch.cuda.get_device_name(0))" || exit 1
run="$PY -m torch.distributed.run --standalone --nproc_per_node=1 -m bootdrift_avalanche.cli"
check ddgr_2_experiences_nccl $run replay --strategy ddgr --benchmark digits --experiences 2 --preset tiny \
    --device cuda --no-umap --quiet --run-dir "$LOGS/ddgr"
check bootstrap_ddpm_1_stage_nccl $run bootstrap --generator ddpm --data digits --stages 1 --preset tiny \
    --device cuda --quiet --run-dir "$LOGS/bootstrap"
# bench/paper_step.py: the paper preset on fake CIFAR-100 files (tests/experiments/test_paper_models.py runs it on the CPU)
check paper_cifar100_slim_resnet18 "$PY" bench/paper_step.py --device cuda --out "$LOGS/paper"
check metrics_scale_50k_cuda "$PY" bench/metrics_scale.py --device cuda --dims 128 --sizes 50000 \
    --metrics fid hierarchical entropic sliced --json "$LOGS/metrics_scale_cuda.json"
# OTDD's label cost on CUDA (stacked products and batched eigenvalues) from 100 to 1,000 classes, n = 100, d = 512
check otdd_label_cost_cuda "$PY" bench/drift_scale.py --probe label --label-device cuda --baseline "" --n 100 \
    --classes 100 200 400 1000 --route full
grep -E "^ +[0-9]+ |growth exponent" "$LOGS/otdd_label_cost_cuda.log"
# the same through OTDDhier's class plan (only the pairs it can use)
check otdd_class_plan_cuda "$PY" bench/drift_scale.py --probe label --label-device cuda --baseline "" --n 100 \
    --classes 100 1000 --route plan
grep -E "^ +[0-9]+ |growth exponent" "$LOGS/otdd_class_plan_cuda.log"
LIMIT=420 check example_cifar100_paper_1_experience "$PY" bench/drift_scale.py --probe example --device cuda \
    --data "$LOGS/fake_cifar100_full" --out "$LOGS/example_paper"
grep -E "^device:|cut for one check|one experience in|^  DriftTime" "$LOGS/example_cifar100_paper_1_experience.log"
echo "gpu_check: $([ $status = 0 ] && echo PASS || echo FAIL)"
exit $status
