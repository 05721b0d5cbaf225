#!/usr/bin/env python3
"""HF transformers on the same random checkpoint as Bulkhead, for run-h100.sh: bf16 on cuda, greedy.

Writes one JSON file (the "hf" part of a GPU run):
  decode:  batch-1 greedy decode from BOS, `--tokens` new tokens per run (EOS masked with min_new_tokens, as
           Bulkhead's ignore_eos), best and median of `--runs` after one warm-up run; tok/s = tokens / seconds.
  batched: per concurrency level, that many random prompts of 16..32 tokens (left padded) generating
           `--max-tokens` tokens each in one generate() call: totalTokensPerSecond = c * max_tokens / seconds
           (prefill included, as Bulkhead's totalTokensPerSecond); decodeTokensPerSecond estimates the decode
           rate alone as c * (max_tokens - 1) / (seconds - seconds of a 1-token generate of the same batch).
Levels or runs that would start past `--budget-s` are skipped and listed under "skipped", so the file is
always written. Only the model directory is read: the tokenizer is not loaded (prompts are random ids).
"""
import argparse
import json
import os
import random
import statistics
import sys
import time
import traceback


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="checkpoint directory written by make-model")
    p.add_argument("--shape", required=True, help="shape name, for the report")
    p.add_argument("--tokens", type=int, default=128, help="batch-1 new tokens per run")
    p.add_argument("--runs", type=int, default=3, help="batch-1 timed runs")
    p.add_argument("--concurrency", default="1,8,32,128,256", help="batched levels, comma-separated")
    p.add_argument("--max-tokens", type=int, default=128, help="new tokens per sequence in the batched runs")
    p.add_argument("--prompt-min", type=int, default=16)
    p.add_argument("--prompt-max", type=int, default=32)
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--budget-s", type=float, default=0, help="start nothing past this many seconds (0: no limit)")
    p.add_argument("--out", required=True, help="JSON file to write")
    return p.parse_args()


class Budget:
    def __init__(self, seconds):
        self.start = time.monotonic()
        self.seconds = seconds

    def spent(self):
        return self.seconds > 0 and time.monotonic() - self.start > self.seconds


def write(path, report):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(report, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)


def err(what, e):
    return what + ": " + "".join(traceback.format_exception_only(type(e), e)).strip()


def load(torch, transformers, auto_model, path):
    """bf16 on cuda; the dtype keyword is `dtype` from transformers 4.56 on, `torch_dtype` before. With accelerate
    installed the weights go straight to the GPU (device_map), else through host memory."""
    major, minor = (int(x) for x in transformers.__version__.split(".")[:2])
    kw = {"dtype" if (major, minor) >= (4, 56) else "torch_dtype": torch.bfloat16}
    try:
        import accelerate  # noqa: F401
        kw["device_map"] = "cuda"
    except ImportError:
        pass
    model = auto_model.from_pretrained(path, **kw)
    if "device_map" not in kw:
        model = model.to("cuda")
    model.eval()
    dtype = next(model.parameters()).dtype
    if dtype != torch.bfloat16:
        raise RuntimeError(f"the model loaded as {dtype}, not bfloat16")
    return model


def timed(torch, fn):
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    out = fn()
    torch.cuda.synchronize()
    return time.perf_counter() - t0, out


def main():
    args = parse_args()
    budget = Budget(args.budget_s)
    report = {"part": "hf", "shape": args.shape, "target": "none", "model": os.path.abspath(args.model),
              "settings": {"tokens": args.tokens, "runs": args.runs, "maxTokens": args.max_tokens,
                           "promptTokens": f"{args.prompt_min}..{args.prompt_max}", "sampling": "greedy, EOS masked",
                           "dtype": "bfloat16"},
              "skipped": [], "errors": []}
    try:
        import torch
        import transformers
        from transformers import AutoConfig, AutoModelForCausalLM
    except ImportError as e:
        report["errors"].append(f"cannot import torch/transformers: {e}")
        write(args.out, report)
        return 2
    report["versions"] = {"python": sys.version.split()[0], "torch": torch.__version__,
                          "transformers": transformers.__version__, "cuda": torch.version.cuda}
    if not torch.cuda.is_available():
        report["errors"].append("torch sees no CUDA device")
        write(args.out, report)
        return 2
    report["target"] = "device"
    report["device"] = {"name": torch.cuda.get_device_name(0),
                        "totalMemoryBytes": torch.cuda.get_device_properties(0).total_memory}

    try:
        config = AutoConfig.from_pretrained(args.model)
        t0 = time.perf_counter()
        model = load(torch, transformers, AutoModelForCausalLM, args.model)
        torch.cuda.synchronize()
        report["loadSeconds"] = round(time.perf_counter() - t0, 2)
        report["checkpoint"] = {"loadedWith": "AutoModelForCausalLM.from_pretrained, bfloat16, on cuda",
                                "class": type(model).__name__, "parameters": sum(p.numel() for p in model.parameters()),
                                "attention": getattr(model.config, "_attn_implementation", None),
                                "tiedEmbeddings": bool(getattr(config, "tie_word_embeddings", False))}
    except Exception as e:  # noqa: BLE001 - a checkpoint transformers refuses is a finding, written down
        report["errors"].append(err("loading the checkpoint failed", e))
        write(args.out, report)
        return 1

    bos = config.bos_token_id if isinstance(config.bos_token_id, int) else 1
    eos = config.eos_token_id
    pad = eos[0] if isinstance(eos, list) else (eos if eos is not None else 0)

    def generate(ids, mask, new):
        with torch.inference_mode():
            return model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=new, min_new_tokens=new,
                                  do_sample=False, use_cache=True, pad_token_id=pad)

    try:
        ids = torch.tensor([[bos]], device="cuda")
        mask = torch.ones_like(ids)
        generate(ids, mask, min(args.tokens, 16))  # warm-up: kernels, allocator
        seconds = []
        for _ in range(args.runs):
            if budget.spent():
                report["skipped"].append("a batch-1 run: budget spent")
                break
            s, out = timed(torch, lambda: generate(ids, mask, args.tokens))
            if out.shape[1] - 1 != args.tokens:
                raise RuntimeError(f"generate returned {out.shape[1] - 1} tokens, not {args.tokens}")
            seconds.append(s)
        if seconds:
            report["decode"] = {"tokens": args.tokens, "runSeconds": [round(s, 4) for s in seconds],
                                "bestTokPerSec": round(args.tokens / min(seconds), 2),
                                "medianTokPerSec": round(args.tokens / statistics.median(seconds), 2)}
    except Exception as e:  # noqa: BLE001
        report["errors"].append(err("batch-1 decode failed", e))
    write(args.out, report)

    rng = random.Random(args.seed)
    vocab = config.vocab_size
    levels = []
    report["batched"] = levels
    for c in [int(x) for x in args.concurrency.split(",") if x.strip()]:
        if budget.spent():
            report["skipped"].append(f"batched c={c}: budget spent")
            continue
        try:
            lengths = [rng.randint(args.prompt_min, args.prompt_max) for _ in range(c)]
            longest = max(lengths)
            ids = torch.full((c, longest), pad, dtype=torch.long)
            mask = torch.zeros((c, longest), dtype=torch.long)
            for i, n in enumerate(lengths):  # left padding, as decoder-only generation needs
                ids[i, longest - n:] = torch.tensor([bos] + [rng.randrange(3, vocab) for _ in range(n - 1)])
                mask[i, longest - n:] = 1
            ids, mask = ids.to("cuda"), mask.to("cuda")
            generate(ids, mask, 4)  # warm-up at this batch size
            prefill, _ = timed(torch, lambda: generate(ids, mask, 1))
            total, out = timed(torch, lambda: generate(ids, mask, args.max_tokens))
            new = out.shape[1] - longest
            level = {"concurrency": c, "newTokensPerSequence": new, "seconds": round(total, 4),
                     "prefillSeconds": round(prefill, 4),
                     "totalTokensPerSecond": round(c * new / total, 2),
                     "decodeTokensPerSecond": round(c * (new - 1) / (total - prefill), 2) if total > prefill else None,
                     "peakMemoryBytes": torch.cuda.max_memory_allocated()}
            levels.append(level)
            print(f"hf {args.shape} c={c}: {level['totalTokensPerSecond']} tok/s total", flush=True)
        except Exception as e:  # noqa: BLE001
            report["errors"].append(err(f"batched c={c} failed", e))
            torch.cuda.empty_cache()
        write(args.out, report)
    write(args.out, report)
    print(json.dumps({k: report.get(k) for k in ("shape", "decode", "errors", "skipped")}), flush=True)
    return 1 if report["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
