"""Pass rate per level of the embedded SmolLM2 on the generated questions.

Used to choose the embedded default's temperature and the generator's levels: a pool
needs queries that the model sometimes solves, more often the easier ones.

    python bench/bench_passrate.py --model /tmp/smollm2-hf --temperature 0.7 --n 50 --trials 4
"""

from __future__ import annotations

import argparse
import collections
import json
import time

from dart.engines import get_engine
from dart.engines.base import Request, SamplingParams
from dart.grade import grade
from dart.prompts import get_template
from dart.queries.generator import generate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="/tmp/smollm2-hf")
    parser.add_argument("--temperature", type=float, default=0.7)
    parser.add_argument("--n", type=int, default=50, help="generated questions (seed 7)")
    parser.add_argument("--trials", type=int, default=4, help="samples per question")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--template", default="few-shot")
    parser.add_argument("--max-new-tokens", type=int, default=256)
    args = parser.parse_args()
    engine = get_engine("transformers", args.model, threads=args.threads, batch_size=64)
    template = get_template(args.template)
    questions = list(generate(7, args.n))
    requests = [
        Request(f"{i}-{t}", template.render(q["query"], engine.tokenizer), 1000 * i + t)
        for i, q in enumerate(questions)
        for t in range(args.trials)
    ]
    params = SamplingParams(
        temperature=args.temperature,
        top_p=0.95,
        max_new_tokens=args.max_new_tokens,
        stop=template.stop,
    )
    start, done = time.perf_counter(), []
    for k in range(0, len(requests), 128):
        done += engine.generate(requests[k : k + 128], params)
    seconds = time.perf_counter() - start
    trials, correct = collections.Counter(), collections.Counter()
    for completion in done:
        q = questions[int(completion.request_id.split("-")[0])]
        verdict = grade(
            completion.text, q["gold"], query=q["query"], finish_reason=completion.finish_reason
        )
        trials[q["level"]] += 1
        correct[q["level"]] += verdict.correct
    tokens = sum(c.completion_tokens for c in done)
    print(json.dumps({
        "temperature": args.temperature,
        "template": args.template,
        "trials": len(done),
        "real_tok_s": round(tokens / seconds, 1),
        "pass_rate": {lv: round(correct[lv] / trials[lv], 3) for lv in sorted(trials)},
    }))  # fmt: skip


if __name__ == "__main__":
    main()
