"""Forward cost per image of the drift feature extractors on this machine (CPU, one thread by
default): ``random``, ``resnet50`` and ``inception`` on a batch of 32x32 images. Weight values do not
change the cost, so the pretrained networks get randomly initialised weights, written under their
real file names into a temporary ``TORCH_HOME`` (nothing is downloaded).

    python bench/extractor_cost.py [--images 16] [--side 32] [--threads 1]
"""
import argparse
import os
import tempfile
import time


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--images", type=int, default=16)
    ap.add_argument("--side", type=int, default=32)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    os.environ["TORCH_HOME"] = tempfile.mkdtemp(prefix="extractor-cost-")
    import torch
    import torch_fidelity.feature_extractor_inceptionv3 as tfi
    from torchvision.models import resnet50

    from bootdrift_avalanche.metrics.features import (INCEPTION_WEIGHTS, RESNET50_WEIGHTS, extract_features,
                                                      make_extractor)
    from bootdrift_avalanche.metrics.weights import hub_checkpoints

    torch.set_num_threads(args.threads)
    folder = hub_checkpoints()
    folder.mkdir(parents=True)
    torch.save(resnet50().state_dict(), folder / RESNET50_WEIGHTS.file)
    load = tfi.FeatureExtractorInceptionV3.load_state_dict
    tfi.FeatureExtractorInceptionV3.load_state_dict = lambda self, state, *a, **k: None  # keep the random init
    fetch, tfi.load_state_dict_from_url = tfi.load_state_dict_from_url, lambda *a, **k: {}
    torch.save(tfi.FeatureExtractorInceptionV3("inception-v3-compat", ["2048"]).state_dict(),
               folder / INCEPTION_WEIGHTS.file)
    tfi.FeatureExtractorInceptionV3.load_state_dict, tfi.load_state_dict_from_url = load, fetch

    x = torch.rand(args.images, 3, args.side, args.side)
    print(f"{args.images} images {args.side}x{args.side}, {args.threads} thread(s)")
    for kind in ("random", "resnet50", "inception"):
        f = make_extractor(kind)
        extract_features(f, x[:2])  # warm-up
        t0, c0 = time.perf_counter(), time.process_time()
        out = extract_features(f, x, batch_size=args.images)
        wall, cpu = (time.perf_counter() - t0) / args.images, (time.process_time() - c0) / args.images
        print(f"{kind:10s} {tuple(out.shape)}  {wall * 1e3:.0f} ms/image wall  {cpu * 1e3:.0f} ms/image CPU")


if __name__ == "__main__":
    main()
