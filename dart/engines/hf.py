"""The ``transformers`` engine: continuous batching on CPU (or a small GPU).

It loads a Hugging Face causal LM folder and runs its own decode loop over the
model's modules instead of ``model.generate``: a fixed number of batch slots share
one left-aligned KV cache, every row has its own start column, position ids and
attention mask, and a slot whose request has finished is refilled at once with the
next request (its prompt prefilled alone, prompts shared by several trials prefilled
once, and the token prefix that all prompts of a call share, such as a few-shot
preamble, prefilled once per call). Columns that no live row needs are compacted away when the cache fills up,
and dead rows are dropped at the tail. So no step computes padding, and the batch
stays full until the work runs out.

Reproducibility (which guarantee holds): generation is *not* batch-invariant. A
row's sampling uses only its own seeded ``torch.Generator`` and its own logits, but
the logits of a batched forward may differ in the last bits with the batch
composition. The unit of work and of resumption is therefore one ``generate()``
call on a fixed list of requests (a chunk of a shard's plan): the same chunk with the
same engine settings (dtype, threads, batch slots, device) gives the same text.

Supported architectures: Llama-style decoders (``llama``, ``mistral`` without a
sliding window, ``qwen2``).

    python -c "from dart.engines import get_engine; print(get_engine('transformers', '/tmp/smollm2-hf').describe())"
"""

from __future__ import annotations

import logging
from collections import OrderedDict, deque
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from dart.engines.base import Completion, Engine, ProgressFn, Request, SamplingParams
from dart.engines.sampling import StopChecker, sample_rows, seeded_generator
from dart.engines.versions import DECODER_VERSION  # bump it there (light import)
from dart.errors import DartError
from dart.lineage.records import read_record

log = logging.getLogger(__name__)

SUPPORTED = ("llama", "mistral", "qwen2")
DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
#: Shortest token prefix shared by all prompts of a call that is prefilled once.
MIN_SHARED = 32


@dataclass
class _Prefix:
    """A prompt's KV cache ([layers, kv_heads, length, head_dim]) and its last logits."""

    keys: torch.Tensor
    values: torch.Tensor
    logits: torch.Tensor
    length: int


class _Decoder:
    """Forward passes of a Llama-style model over an external, per-row-masked KV cache."""

    def __init__(self, model: torch.nn.Module) -> None:
        cfg = model.config
        if cfg.model_type not in SUPPORTED or getattr(cfg, "sliding_window", None):
            raise DartError(
                f"transformers engine: model type {cfg.model_type!r} is not supported "
                f"(supported: {', '.join(SUPPORTED)}, without sliding-window attention)"
            )
        self.model = model
        self.body = model.model
        self.layers = list(self.body.layers)
        self.heads = cfg.num_attention_heads
        self.kv_heads = getattr(cfg, "num_key_value_heads", None) or self.heads
        self.head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // self.heads
        self.groups = self.heads // self.kv_heads

    def _rope(self, x: torch.Tensor, positions: torch.Tensor):
        from transformers.models.llama.modeling_llama import apply_rotary_pos_emb

        cos, sin = self.body.rotary_emb(x, positions)
        return lambda q, k: apply_rotary_pos_emb(q, k, cos, sin)

    def _qkv(self, layer, h: torch.Tensor, rope) -> tuple[torch.Tensor, ...]:
        rows, length, _ = h.shape
        attn = layer.self_attn
        q = attn.q_proj(h).view(rows, length, self.heads, self.head_dim).transpose(1, 2)
        k = attn.k_proj(h).view(rows, length, self.kv_heads, self.head_dim).transpose(1, 2)
        v = attn.v_proj(h).view(rows, length, self.kv_heads, self.head_dim).transpose(1, 2)
        q, k = rope(q, k)
        return q, k, v

    def prefill(self, ids: list[int], device: torch.device, past: _Prefix | None = None) -> _Prefix:
        """Run one prompt alone (causal attention, no padding). With ``past`` (the KV of
        ``ids[:past.length]``, computed once for prompts that share it), only the rest
        of the prompt is run, attending to ``past`` and causally to itself."""
        start = past.length if past is not None else 0
        new = len(ids) - start
        tokens = torch.tensor([ids[start:]], device=device)
        x = self.body.embed_tokens(tokens)
        rope = self._rope(x, torch.arange(start, len(ids), device=device)[None])
        mask = None
        if past is not None:  # row i sees every past column and new columns <= i
            cols = torch.arange(len(ids), device=device)
            mask = cols[None, :] <= (start + torch.arange(new, device=device))[:, None]
        keys, values = [], []
        for i, layer in enumerate(self.layers):
            q, k, v = self._qkv(layer, layer.input_layernorm(x), rope)
            if past is not None:
                k = torch.cat([past.keys[i][None], k], dim=2)
                v = torch.cat([past.values[i][None], v], dim=2)
            keys.append(k[0])
            values.append(v[0])
            k = k.repeat_interleave(self.groups, dim=1)
            v = v.repeat_interleave(self.groups, dim=1)
            o = torch.nn.functional.scaled_dot_product_attention(
                q, k, v, attn_mask=mask, is_causal=mask is None, scale=layer.self_attn.scaling
            )
            x = x + layer.self_attn.o_proj(o.transpose(1, 2).reshape(1, new, -1))
            x = x + layer.mlp(layer.post_attention_layernorm(x))
        logits = self.model.lm_head(self.body.norm(x[:, -1])).float()[0]
        return _Prefix(torch.stack(keys), torch.stack(values), logits, len(ids))

    def step(self, tokens, positions, cache: _Cache, mask: torch.Tensor) -> torch.Tensor:
        """One decode step for every slot: write KV at column ``cache.t``, attend to
        columns ``[cache.lo, cache.t]`` under ``mask`` ([rows, width]); return logits."""
        rows = tokens.shape[0]
        x = self.body.embed_tokens(tokens)[:, None]
        rope = self._rope(x, positions[:, None])
        t, lo = cache.t, cache.lo
        attn_mask = mask[:, None, None, :]
        for i, layer in enumerate(self.layers):
            q, k, v = self._qkv(layer, layer.input_layernorm(x), rope)
            cache.keys[i, :, :, t] = k[:, :, 0]
            cache.values[i, :, :, t] = v[:, :, 0]
            # The query heads sharing one KV head act as that head's query rows.
            o = torch.nn.functional.scaled_dot_product_attention(
                q.reshape(rows, self.kv_heads, self.groups, self.head_dim),
                cache.keys[i, :, :, lo : t + 1],
                cache.values[i, :, :, lo : t + 1],
                attn_mask=attn_mask,
                scale=layer.self_attn.scaling,
            )
            x = x + layer.self_attn.o_proj(o.reshape(rows, 1, -1))
            x = x + layer.mlp(layer.post_attention_layernorm(x))
        return self.model.lm_head(self.body.norm(x[:, 0])).float()


class _Cache:
    """The slots' shared KV cache: [layers, slots, kv_heads, capacity, head_dim].

    ``t`` is the column the next step writes; slot ``b`` owns ``[start[b], t)``; ``lo``
    is the first column any live slot needs. ``floor`` (the longest prompt) keeps room
    on the left for any prompt to be inserted ending at ``t``.
    """

    GROW = 256

    def __init__(self, decoder: _Decoder, slots: int, floor: int, dtype, device) -> None:
        self.shape = (len(decoder.layers), slots, decoder.kv_heads)
        self.head_dim, self.dtype, self.device = decoder.head_dim, dtype, device
        self.floor = floor
        self.t = floor
        self.keys, self.values = self._alloc(slots, floor + self.GROW)
        self.start = torch.full((slots,), floor, dtype=torch.long)
        self.lo = floor

    def _alloc(self, slots: int, capacity: int) -> tuple[torch.Tensor, torch.Tensor]:
        shape = (self.shape[0], slots, self.shape[2], capacity, self.head_dim)
        make = lambda: torch.zeros(shape, dtype=self.dtype, device=self.device)  # noqa: E731
        return make(), make()

    @property
    def capacity(self) -> int:
        return self.keys.shape[3]

    def insert(self, slot: int, prefix: _Prefix) -> None:
        begin = self.t - prefix.length
        self.keys[:, slot, :, begin : self.t] = prefix.keys
        self.values[:, slot, :, begin : self.t] = prefix.values
        self.start[slot] = begin

    def relayout(self, keep: list[int], lo: int) -> None:
        """Keep only slots ``keep`` and columns ``[lo, t)``, with room to grow on the right."""
        width = self.t - lo
        new_t = max(width, self.floor)
        keys, values = self._alloc(len(keep), max(self.capacity, new_t + self.GROW))
        index = torch.tensor(keep, device=self.device)
        keys[:, :, :, new_t - width : new_t] = self.keys[:, index, :, lo : self.t]
        values[:, :, :, new_t - width : new_t] = self.values[:, index, :, lo : self.t]
        self.keys, self.values = keys, values
        self.start = self.start[torch.tensor(keep)] - lo + (new_t - width)
        self.t = new_t


class _Slots:
    """Scheduler state of one ``generate()`` call: which request each slot holds."""

    def __init__(self, engine: TransformersEngine, requests, params, progress) -> None:
        self.engine, self.requests, self.params, self.progress = engine, requests, params, progress
        self.prompt_ids = [engine.encode(r.prompt) for r in requests]
        for request, ids in zip(requests, self.prompt_ids, strict=True):
            engine.check_fits(request.request_id, len(ids))
        self.shared = engine.shared_prefix(self.prompt_ids)
        slots = min(engine.batch_size, len(requests))
        floor = max(len(ids) for ids in self.prompt_ids)
        self.cache = _Cache(engine.decoder, slots, floor, engine.dtype, engine.device)
        self.pending = deque(range(len(requests)))
        self.holder = [-1] * slots  # request index per slot, -1 when dead
        self.tokens: list[list[int]] = [[] for _ in range(slots)]
        self.generators: list[torch.Generator | None] = [None] * slots
        self.checker = StopChecker(engine.tokenizer, params.stop, engine.eos_ids)
        self.results: list[Completion | None] = [None] * len(requests)
        self.finished = 0

    def _finish(self, index: int, reason: str, text: str, n_tokens: int) -> None:
        request = self.requests[index]
        self.results[index] = Completion(
            request.request_id, text, reason, len(self.prompt_ids[index]), n_tokens
        )
        self.finished += 1

    def fill(self, slot: int) -> None:
        """Give ``slot`` the next pending request (sampling its first token), or mark it dead."""
        self.holder[slot] = -1
        while self.pending:
            index = self.pending.popleft()
            prefix = self.engine.prefix(
                self.requests[index].prompt, self.prompt_ids[index], self.shared
            )
            gen = seeded_generator(self.requests[index].seed)
            first = int(sample_rows(prefix.logits[None], self.params, [gen])[0])
            done = self.checker.check([first], self.params.max_new_tokens)
            if done:
                self._finish(index, *done, 1)
                continue
            self.cache.insert(slot, prefix)
            self.holder[slot], self.tokens[slot], self.generators[slot] = index, [first], gen
            return

    def live(self) -> list[int]:
        return [b for b, index in enumerate(self.holder) if index >= 0]

    def step(self, live: list[int]) -> int:
        """One decode step for all slots; returns the number of real tokens generated."""
        cache = self.cache
        cache.lo = int(cache.start[live].min())
        start = cache.start.clone()
        dead = [b for b, index in enumerate(self.holder) if index < 0]
        start[dead] = cache.t  # a dead slot attends only to its own column
        device = self.engine.device
        columns = torch.arange(cache.lo, cache.t + 1)
        mask = (columns[None, :] >= start[:, None]).to(device)
        last = torch.tensor([seq[-1] if seq else 0 for seq in self.tokens], device=device)
        positions = (cache.t - start).to(device)
        logits = self.engine.decoder.step(last, positions, cache, mask)
        cache.t += 1
        picks = sample_rows(logits[live], self.params, [self.generators[b] for b in live])
        for b, token in zip(live, picks.tolist(), strict=True):
            self.tokens[b].append(token)
            done = self.checker.check(self.tokens[b], self.params.max_new_tokens)
            if done:
                self._finish(self.holder[b], *done, len(self.tokens[b]))
                self.tokens[b] = []
                self.fill(b)
        return len(live)

    def maybe_relayout(self) -> None:
        """Compact when the cache is full, or drop dead slots once a quarter are dead."""
        live = self.live()
        dead = len(self.holder) - len(live)
        full = self.cache.t >= self.cache.capacity
        if not live or not (full or (not self.pending and dead >= max(1, len(self.holder) // 4))):
            return
        self.cache.relayout(live, int(self.cache.start[live].min()))
        self.holder = [self.holder[b] for b in live]
        self.tokens = [self.tokens[b] for b in live]
        self.generators = [self.generators[b] for b in live]

    def run(self) -> list[Completion]:
        for slot in range(len(self.holder)):
            self.fill(slot)
        reported = 0
        while live := self.live():
            n_tokens = self.step(live)
            if self.progress is not None:
                self.progress(self.finished - reported, n_tokens)
                reported = self.finished
            self.maybe_relayout()
        if self.progress is not None and self.finished > reported:
            self.progress(self.finished - reported, 0)
        assert all(c is not None for c in self.results)
        return list(self.results)  # in request order


class TransformersEngine(Engine):
    """Continuous-batching generation with a Hugging Face Llama-style model."""

    name = "transformers"

    def __init__(
        self,
        model: str,
        *,
        dtype: str = "float32",
        threads: int | None = None,
        batch_size: int = 64,
        device: str = "cpu",
        revision: str | None = None,
        prefix_cache: int = 64,
    ) -> None:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        if dtype not in DTYPES:
            raise DartError(f"transformers engine: unknown dtype {dtype!r}; known: {list(DTYPES)}")
        if threads:
            torch.set_num_threads(int(threads))
        self.model_id, self.revision, self.batch_size = str(model), revision, int(batch_size)
        self.dtype, self.device = DTYPES[dtype], torch.device(device)
        self._tokenizer = AutoTokenizer.from_pretrained(self.model_id, revision=revision)
        self.model = AutoModelForCausalLM.from_pretrained(
            self.model_id, revision=revision, dtype=self.dtype, attn_implementation="sdpa"
        ).to(self.device)
        self.model.eval()
        self.decoder = _Decoder(self.model)
        self.eos_ids = _eos_ids(self.model, self._tokenizer)
        self._prefixes: OrderedDict[str, _Prefix] = OrderedDict()
        self._prefix_cache = prefix_cache

    @property
    def tokenizer(self) -> Any:
        return self._tokenizer

    def encode(self, prompt: str) -> list[int]:
        ids = self._tokenizer(prompt, add_special_tokens=True)["input_ids"]
        if not ids:
            raise DartError("transformers engine: a prompt encodes to no tokens")
        return list(ids)

    @property
    def context(self) -> int | None:
        """The model's context length in tokens (None when its config does not say)."""
        return getattr(self.model.config, "max_position_embeddings", None)

    def check_fits(self, request_id: str, prompt_tokens: int) -> None:
        """Refuse a prompt that leaves no room in the model's context for one new token."""
        if self.context is not None and prompt_tokens >= self.context:
            raise DartError(
                f"transformers engine: request {request_id}: the prompt has {prompt_tokens} "
                f"tokens, more than the model's context of {self.context} tokens allows"
            )

    def shared_prefix(self, prompt_ids: Sequence[list[int]]) -> _Prefix | None:
        """The KV of the token prefix that every prompt of a call shares (a few-shot
        preamble), computed once; None when it is shorter than ``MIN_SHARED``. Always at
        least one token shorter than the shortest prompt, so each prompt has a suffix."""
        first = prompt_ids[0]
        length = min(len(ids) for ids in prompt_ids) - 1
        for ids in prompt_ids[1:]:
            length = next((i for i in range(length) if ids[i] != first[i]), length)
        if length < MIN_SHARED:
            return None
        return self.decoder.prefill(first[:length], self.device)

    def prefix(self, prompt: str, ids: list[int], shared: _Prefix | None = None) -> _Prefix:
        """The prompt's KV cache, computed once per distinct prompt (small LRU), on top of
        the call's shared prefix when there is one."""
        if prompt in self._prefixes:
            self._prefixes.move_to_end(prompt)
            return self._prefixes[prompt]
        found = self.decoder.prefill(ids, self.device, past=shared)
        self._prefixes[prompt] = found
        while len(self._prefixes) > self._prefix_cache:
            self._prefixes.popitem(last=False)
        return found

    def generate(
        self,
        requests: Sequence[Request],
        params: SamplingParams,
        progress: ProgressFn | None = None,
    ) -> list[Completion]:
        if not requests:
            return []
        with torch.inference_mode():
            done = _Slots(self, list(requests), params, progress).run()
        self._prefixes.clear()
        return done

    def describe(self) -> dict[str, Any]:
        import transformers

        return {
            "engine": self.name,
            "engine_version": transformers.__version__,
            "torch": torch.__version__,
            "decoder": DECODER_VERSION,
            "model": self.model_id,
            "model_type": self.model.config.model_type,
            "revision": self.revision or getattr(self.model.config, "_commit_hash", None),
            "weights_sha256": _recorded_hash(self.model_id),
            "dtype": str(self.dtype).removeprefix("torch."),
            "device": str(self.device),
            "threads": torch.get_num_threads(),
            "batch_size": self.batch_size,
        }


def _eos_ids(model, tokenizer) -> list[int]:
    ids = model.generation_config.eos_token_id if model.generation_config else None
    ids = [ids] if isinstance(ids, int) else list(ids or [])
    if tokenizer.eos_token_id is not None:
        ids.append(tokenizer.eos_token_id)
    return sorted(set(ids))


def _recorded_hash(model: str) -> str | None:
    """The weights' own hash as the model folder's record holds it (never re-hashed here)."""
    path = Path(model)
    record = read_record(path) if path.is_dir() else None
    return (record.get("model") or {}).get("weights_sha256") if record else None
