"""Frozen CLIP encoders for Multi-DProxy, built by open_clip from weights whose source is named and checked.

`load_encoder(model, weights)` takes an open_clip model config name and one of
  - a local file: an OpenAI checkpoint (a TorchScript archive, OpenAI's release format, or a state dict taken from one),
    loaded by open_clip's OpenAI loader; otherwise an open_clip state dict (.pt, .bin, .safetensors);
  - "hf-hub:<org>/<repo>": the repository's open_clip weights from the local Hugging Face cache, never the network;
  - "none": random initialisation (seeded, so one model name gives one set of weights); for tests only: the encoder
    says `is_random` and its id says "random".
Weights that are not on this machine raise WeightsUnavailable: nothing falls back to random weights. A weights file that
cannot be read whole (truncated, damaged: a zip member failing its CRC, a safetensors header not covering the file,
or the sha256 of the file `make weights` fetched or of a Hugging Face blob not being the one it was published with)
raises WeightsUnreadable naming the file.

OpenAI trained CLIP with QuickGELU. open_clip's plain configs (`ViT-B-32`) build nn.GELU, and open_clip compares the
activation with the weights only for its pretrained *tags*: a checkpoint file or a hub repository given with the plain
config loads without complaint and computes wrong features. `load_encoder` refuses that and names the config to use
(`ViT-B-32-quickgelu`).
"""

from __future__ import annotations

import json
import pickle
import re
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import open_clip
import torch
import torch.nn.functional as F
from huggingface_hub import constants as hf_constants
from huggingface_hub import hf_hub_download
from huggingface_hub.errors import EntryNotFoundError
from open_clip.constants import HF_CONFIG_NAME, HF_SAFE_WEIGHTS_NAME, HF_WEIGHTS_NAME
from open_clip.transform import PreprocessCfg, image_transform_v2
from PIL import Image
from safetensors import SafetensorError, safe_open
from tqdm import tqdm

from mmc_core import paths
from mmc_core.data.registry import sha256_file

TINY_MODEL = "mmc-tiny-clip"  # a few-M-parameter config for tests and CI (no published weights)
HUB_PREFIX = "hf-hub:"
RANDOM_ID = "random"
RANDOM_SEED = 0
PLACEHOLDER = "*"  # the word a prompt template holds in place of the learnable proxy token
# Text paths of a prompt with a proxy token (encode_prompts_with_token): CLIP's own, or Multi-MaP's code's
PROMPT_PATHS = ("authors", "full")
# A state dict taken from OpenAI's TorchScript checkpoints keeps these integer entries; open_clip's never has them.
# (The tensor names are no clue: open_clip's CLIP class uses OpenAI's names.)
OPENAI_EXTRA_KEYS = ("input_resolution", "context_length", "vocab_size")

if TINY_MODEL not in open_clip.list_models():  # open_clip names a config after its file's stem
    open_clip.add_model_config(Path(__file__).with_name(f"{TINY_MODEL}.json"))


@dataclass(frozen=True)
class KnownWeights:
    """Public weights that `make weights` fetches: the open_clip config they need, their URL and sha256."""

    model: str
    url: str
    sha256: str

    @property
    def filename(self) -> str:
        return self.url.rsplit("/", 1)[1]


# OpenAI's CLIP ViT-B/32, at the URL open_clip's pretrained table lists for (ViT-B-32, openai). OpenAI's URLs carry the
# file's sha256 as their second-to-last path component: the sha256 below is taken from there.
KNOWN_WEIGHTS: dict[str, KnownWeights] = {
    "openai-ViT-B-32": KnownWeights(
        model="ViT-B-32-quickgelu",
        url="https://openaipublic.azureedge.net/clip/models/"
            "40d365715913c9da98579312b702a82c18be219cc2a73407c4526f58eba950af/ViT-B-32.pt",
        sha256="40d365715913c9da98579312b702a82c18be219cc2a73407c4526f58eba950af",
    ),
}


class WeightsUnavailable(RuntimeError):
    """The weights named for a CLIP model are not on this machine (the message says how to provide them)."""


class WeightsUnreadable(ValueError):
    """A weights file that cannot be read whole or is not the file it was published as (the message names it)."""


def weights_dir() -> Path:
    """Where `make weights` puts the known weights: <data dir>/clip."""
    return paths.data_dir() / "clip"


def _how_to_provide() -> str:
    known = KNOWN_WEIGHTS["openai-ViT-B-32"]
    return (f"Provide weights in one of three ways: put the checkpoint file at a path and pass weights=<path>; "
            f"or pre-populate the Hugging Face cache ({hf_constants.HF_HUB_CACHE}) on a machine with network "
            f"(`hf download <org>/<repo>`, then copy the cache here) and pass weights='hf-hub:<org>/<repo>'; or run "
            f"`make weights`, which downloads OpenAI's {known.filename} to {weights_dir() / known.filename} "
            f"(use it with model {known.model!r}).")


@dataclass(eq=False)
class ClipEncoder:
    """A frozen CLIP model (eval mode, no parameter requires grad) with its preprocess, tokenizer and provenance."""

    model_name: str
    weights_source: str
    weights_id: str  # sha256 of the weights file, or "random"
    device: str
    model: open_clip.CLIP = field(repr=False)
    preprocess: Callable[[Image.Image], torch.Tensor] = field(repr=False)
    tokenizer: open_clip.SimpleTokenizer = field(repr=False)
    _prompts: dict[str, tuple[torch.Tensor, int, int]] = field(default_factory=dict, repr=False, init=False)

    @property
    def id(self) -> str:
        """`<model>@<first 12 of the weights sha256>` (or `<model>@random`): the key of cached features."""
        return f"{self.model_name}@{self.weights_id[:12]}"

    @property
    def is_random(self) -> bool:
        return self.weights_id == RANDOM_ID

    @property
    def embed_dim(self) -> int:
        return int(self.model.text_projection.shape[1])

    @property
    def token_width(self) -> int:
        """Width of the text transformer's input token embeddings (what a proxy token must have)."""
        return int(self.model.token_embedding.weight.shape[1])

    def encode_images(self, paths: Sequence[Path], batch_size: int = 64, progress: bool = True) -> np.ndarray:
        """(n, embed_dim) float32 image features with unit rows; each image converted to RGB (CMUface is greyscale)."""
        rows = [np.zeros((0, self.embed_dim), dtype=np.float32)]
        with torch.no_grad(), tqdm(total=len(paths), desc=f"CLIP {self.id}", unit="img", leave=False,
                                   disable=None if progress else True) as bar:
            for start in range(0, len(paths), batch_size):
                batch = paths[start:start + batch_size]
                pixels = torch.stack([self._pixels(Path(p)) for p in batch]).to(self.device)
                rows.append(_unit_rows(self.model.encode_image(pixels)))
                bar.update(len(batch))
        return np.concatenate(rows)

    def _pixels(self, path: Path) -> torch.Tensor:
        with Image.open(path) as image:
            return self.preprocess(image.convert("RGB"))

    def encode_texts(self, texts: Sequence[str]) -> np.ndarray:
        """(m, embed_dim) float32 text features with unit rows."""
        with torch.no_grad():
            return _unit_rows(self.model.encode_text(self.tokenizer(list(texts)).to(self.device)))

    def word_token_embedding(self, word: str) -> torch.Tensor:
        """The mean of `word`'s token embeddings (token_width,): the usual start for a proxy token."""
        ids = self.tokenizer.encode(word)
        if not ids:
            raise ValueError(f"{word!r} has no tokens")
        return self.model.token_embedding.weight[ids].mean(0).detach().clone()

    def encode_prompts_with_token(self, template: str, token_embeddings: torch.Tensor,
                                  path: str = "full") -> torch.Tensor:
        """(n, embed_dim) text features, not normalised, of `template` with its placeholder `*` replaced by each row of
        `token_embeddings` (n, token_width) in the text transformer's input; gradients flow to `token_embeddings`.

        path (PROMPT_PATHS) says which text path runs after the swap:
          - "full": CLIP.encode_text (open_clip 3.3.0: token embedding, + positional embedding, transformer under the
            causal mask, final LayerNorm, the end-of-text token's row, projection) with one input embedding swapped;
          - "authors": Multi-MaP's `encode_text_with_learnt_tokens` (its main.py and main_eval.py, after PALAVRA):
            token embedding with the swap, the transformer under the causal mask (OpenAI's blocks carry it), the
            end-of-text token's row, projection: no positional embedding and no final LayerNorm.
        """
        if path not in PROMPT_PATHS:
            raise ValueError(f"path must be one of {PROMPT_PATHS}, not {path!r}")
        if token_embeddings.ndim != 2 or token_embeddings.shape[1] != self.token_width:
            raise ValueError(f"token_embeddings must have shape (n, {self.token_width}), not "
                             f"{tuple(token_embeddings.shape)}")
        tokens, position, end = self._prompt_tokens(template)
        net = self.model
        x = net.token_embedding(tokens).expand(len(token_embeddings), -1, -1).clone()
        x[:, position] = token_embeddings.to(device=x.device, dtype=x.dtype)
        if path == "full":
            x = x + net.positional_embedding
        x = net.transformer(x, attn_mask=net.attn_mask)
        if path == "full":
            x = net.ln_final(x)
        x = x[:, end]
        return x @ net.text_projection

    def _prompt_tokens(self, template: str) -> tuple[torch.Tensor, int, int]:
        """The template's tokens on the device, its placeholder's position and its end-of-text token's (the
        highest id), worked out once per template: a training step then neither tokenises nor reads the device."""
        if template not in self._prompts:
            tokens = self.tokenizer([template]).to(self.device)
            self._prompts[template] = (tokens, self._placeholder_position(tokens[0], template),
                                       int(tokens[0].argmax()))
        return self._prompts[template]

    def _placeholder_position(self, tokens: torch.Tensor, template: str) -> int:
        (placeholder,) = self.tokenizer.encode(PLACEHOLDER)
        found = (tokens == placeholder).nonzero().flatten().tolist()
        if len(found) != 1:
            raise ValueError(f"the prompt template {template!r} must hold the placeholder {PLACEHOLDER!r} exactly "
                             f"once, as a word of its own (found {len(found)}), e.g. 'a photo of a * card'")
        return found[0]


def _unit_rows(features: torch.Tensor) -> np.ndarray:
    return F.normalize(features.float(), dim=-1).cpu().numpy().astype(np.float32)


def load_encoder(model: str, weights: str, device: str = "cpu") -> ClipEncoder:
    """The open_clip model config `model` with `weights` (a file path, 'hf-hub:<org>/<repo>' or 'none'), frozen, on
    `device`. WeightsUnavailable if the weights are not on this machine; ValueError if they do not fit the config."""
    if model not in open_clip.list_models():
        raise ValueError(f"unknown open_clip model config {model!r}; open_clip.list_models() lists them "
                         f"(e.g. {KNOWN_WEIGHTS['openai-ViT-B-32'].model!r}, or {TINY_MODEL!r} for tests)")
    config = open_clip.get_model_config(model)
    if weights == "none":
        net, weights_id = _random_model(model), RANDOM_ID
    elif weights.startswith(HUB_PREFIX):
        checkpoint, hub_config = _hub_files(model, weights)
        weights_id = _checked_sha256(checkpoint, _hub_blob_sha256(checkpoint), f"the blob {weights} was cached as")
        if "model_cfg" in hub_config:  # the config the weights were trained with (no quick_gelu entry: GELU)
            quick_gelu = bool(hub_config["model_cfg"].get("quick_gelu", False))
            _check_activation(model, config, quick_gelu, weights,
                              f"has an {HF_CONFIG_NAME} with quick_gelu: {str(quick_gelu).lower()}")
        net = _open_clip_model(model, checkpoint, hub_config.get("preprocess_cfg", {}))
    else:
        path = Path(weights).expanduser()
        if not path.is_file():
            raise WeightsUnavailable(f"No weights for CLIP model {model!r}: the file {path} does not exist. "
                                     + _how_to_provide())
        known = next((k for k in KNOWN_WEIGHTS.values()  # the file `make weights` fetched
                      if (weights_dir() / k.filename).resolve() == path.resolve()), None)
        weights_id = (_checked_sha256(path, known.sha256, f"{known.url} is published with") if known
                      else _checked_sha256(path))
        why = openai_signature(path)
        if why is not None:
            _check_activation(model, config, True, str(path), f"is an OpenAI checkpoint ({why})")
            net = _openai_model(model, config, path)
        else:
            net = _open_clip_model(model, path, {})
    if not (isinstance(net, open_clip.CLIP) and net.text_pool_type == "argmax"
            and isinstance(net.text_projection, torch.nn.Parameter)):
        raise ValueError(f"{model!r} does not have OpenAI's text tower (open_clip's CLIP class, pooling the "
                         f"end-of-text token, a projection matrix), which encode_prompts_with_token runs piece by "
                         f"piece")
    net = net.to(device).eval().requires_grad_(False)
    return ClipEncoder(model_name=model, weights_source=weights, weights_id=weights_id, device=device, model=net,
                       preprocess=image_transform_v2(PreprocessCfg(**net.visual.preprocess_cfg), is_train=False),
                       tokenizer=open_clip.get_tokenizer(model))


def _checked_sha256(path: Path, expected: str | None = None, source: str = "") -> str:
    """The file's sha256, once the file is known to read whole (_check_readable) and, when `expected` is given, to be
    that sha256 (`source` says where it comes from); WeightsUnreadable naming the file otherwise."""
    _check_readable(path)
    digest = sha256_file(path)
    if expected is not None and digest != expected:
        raise WeightsUnreadable(f"The CLIP weights file {path} has sha256 {digest}, but {source} sha256 {expected}: "
                                f"it is truncated or damaged. Delete it and provide it again. " + _how_to_provide())
    return digest


def _hub_blob_sha256(checkpoint: Path) -> str | None:
    """The sha256 a Hugging Face cache file was stored under (an LFS blob is named by it), else None."""
    name = checkpoint.resolve().name
    return name if re.fullmatch(r"[0-9a-f]{64}", name) else None


def _check_readable(path: Path) -> None:
    """WeightsUnreadable naming the file unless it reads whole: every member of a zip archive (torch's format, and
    OpenAI's TorchScript releases) passes its CRC check, a safetensors file's header covers the file, and any other
    file loads with torch (weights only)."""
    try:
        if path.suffix == ".safetensors":
            with safe_open(str(path), framework="pt"):
                pass
        elif zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                damaged = archive.testzip()
            if damaged is not None:
                raise zipfile.BadZipFile(f"its member {damaged} fails its CRC check")
        else:
            torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, EOFError, RuntimeError, ValueError, pickle.UnpicklingError, zipfile.BadZipFile,
            SafetensorError) as err:
        raise WeightsUnreadable(f"The CLIP weights file {path} cannot be read ({type(err).__name__}: "
                                f"{str(err)[:300] or 'the file ends too soon'}): it is truncated, damaged or not a "
                                f"weights file. Delete it and provide it again. " + _how_to_provide()) from None


def openai_signature(path: Path) -> str | None:
    """Why the file at `path` is an OpenAI CLIP checkpoint, or None if nothing says so: a TorchScript archive (how
    OpenAI released CLIP), or a zip-format state dict with OpenAI's integer entries (OPENAI_EXTRA_KEYS)."""
    if not zipfile.is_zipfile(path):
        return None
    with zipfile.ZipFile(path) as archive:
        if any(name.endswith("/constants.pkl") for name in archive.namelist()):
            return "a TorchScript archive, the format of OpenAI's releases"
    state = torch.load(path, map_location="cpu", mmap=True, weights_only=True)
    if isinstance(state, dict) and all(key in state for key in OPENAI_EXTRA_KEYS):
        return f"a state dict with OpenAI's entries {', '.join(OPENAI_EXTRA_KEYS)}"
    return None


def _check_activation(model: str, config: dict, weights_quick_gelu: bool, source: str, why: str) -> None:
    """ValueError naming the config to use when `model`'s activation is not the one the weights were trained with."""
    if bool(config.get("quick_gelu", False)) == weights_quick_gelu:
        return
    name = f"{model}-quickgelu" if weights_quick_gelu else model.removesuffix("-quickgelu")
    fix = (f"the model config {name!r}" if name in open_clip.list_models()
           else f"a copy of {model!r}'s config with quick_gelu: {str(weights_quick_gelu).lower()}")
    trained, built = ("QuickGELU", "GELU") if weights_quick_gelu else ("GELU", "QuickGELU")
    raise ValueError(f"{source} {why}: its weights were trained with {trained}, but the config {model!r} builds "
                     f"{built}; open_clip would load them without complaint and compute wrong features. "
                     f"Use {fix} instead.")


def _random_model(model: str) -> open_clip.CLIP:
    """`model` initialised under a fixed seed, so that `<model>@random` always names the same weights."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(RANDOM_SEED)
        return open_clip.create_model(model)


def _open_clip_model(model: str, checkpoint: Path, preprocess_cfg: dict) -> open_clip.CLIP:
    """`model` with an open_clip state dict (loaded strictly: a tensor that does not fit is an error)."""
    try:
        return open_clip.create_model(model, pretrained=str(checkpoint), force_preprocess_cfg=preprocess_cfg)
    except (RuntimeError, AssertionError) as err:  # load_state_dict's key and shape checks; resize_*_pos_embed's
        raise ValueError(f"the weights in {checkpoint} do not fit the model config {model!r} ({str(err)[:400]}); "
                         f"pass the config they were trained with") from err


def _openai_model(model: str, config: dict, path: Path) -> open_clip.CLIP:
    """An OpenAI checkpoint through open_clip's OpenAI loader (which infers the architecture from the weights and always
    builds QuickGELU), checked against `model`'s config and given OpenAI's preprocessing."""
    net = open_clip.load_openai_model(str(path.resolve()), precision="fp32", device="cpu")
    with torch.device("meta"):  # the config's tensor shapes, at no cost
        expected = {k: tuple(v.shape) for k, v in open_clip.CLIP(**config).state_dict().items()}
    found = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    differ = sorted(k for k in expected.keys() | found.keys() if expected.get(k) != found.get(k))
    if differ:
        raise ValueError(f"{path} holds another architecture than the model config {model!r}: {len(differ)} tensors "
                         f"differ (e.g. {', '.join(differ[:3])}); pass the config its weights were trained with")
    open_clip.set_model_preprocess_cfg(net, asdict(PreprocessCfg(size=net.visual.image_size)))  # OpenAI's defaults
    return net


def _hub_files(model: str, weights: str) -> tuple[Path, dict]:
    """The cached weights file of the hub repository `weights` and its open_clip config ({} if not cached)."""
    repo = weights.removeprefix(HUB_PREFIX)
    for filename in (HF_SAFE_WEIGHTS_NAME, HF_WEIGHTS_NAME):  # open_clip's order of preference
        try:
            checkpoint = Path(hf_hub_download(repo, filename, local_files_only=True))
            break
        except EntryNotFoundError:
            continue
    else:
        raise WeightsUnavailable(f"No weights for CLIP model {model!r}: {weights} has neither {HF_SAFE_WEIGHTS_NAME} "
                                 f"nor {HF_WEIGHTS_NAME} in the local Hugging Face cache "
                                 f"({hf_constants.HF_HUB_CACHE}), and the hub is never contacted. " + _how_to_provide())
    try:
        config_path = Path(hf_hub_download(repo, HF_CONFIG_NAME, local_files_only=True))
    except EntryNotFoundError:
        return checkpoint, {}
    try:
        return checkpoint, json.loads(config_path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise WeightsUnreadable(f"The open_clip config {config_path} of {weights} cannot be read ({err}): delete it "
                                f"and provide the repository again. " + _how_to_provide()) from None
