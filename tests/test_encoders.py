"""The CLIP encoder layer (mmc_core.encoders): weights sources and their refusals, the proxy-token text path, the
feature cache and the weights download. CPU only, on the tiny config `mmc-tiny-clip` (and tiny test configs); no CLIP
weights and no network are needed."""

from __future__ import annotations

import hashlib
import io
import json
import re
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import open_clip
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from safetensors.torch import save_file

from mmc_core import paths
from mmc_core.data.loaders import ImageDataset
from mmc_core.data.registry import get_entry, is_available, sha256_file
from mmc_core.encoders import KNOWN_WEIGHTS, ClipEncoder, WeightsUnavailable, image_features, load_encoder, \
    text_features
from mmc_core.encoders import features as features_module
from mmc_core.encoders import fetch as fetch_module
from mmc_core.encoders.clip import KnownWeights, WeightsUnreadable, openai_signature
from mmc_core.encoders.features import FeatureCacheMismatch, FeatureCacheWarning

TINY = "mmc-tiny-clip"
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> list[Path]:
    """Three small images: a greyscale PGM (as CMUface's), an RGB PNG and an RGBA PNG of other sizes."""
    folder = tmp_path_factory.mktemp("images")
    rng = np.random.default_rng(0)
    out = []
    for name, mode, shape in [("face.pgm", "L", (30, 32)), ("rgb.png", "RGB", (40, 48, 3)),
                              ("rgba.png", "RGBA", (20, 20, 4))]:
        Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode).save(folder / name)
        out.append(folder / name)
    return out


@pytest.fixture(scope="module")
def random_encoder() -> ClipEncoder:
    return load_encoder(TINY, "none")


def other_tiny_weights(config: str = TINY) -> torch.nn.Module:
    """A tiny model initialised under another seed than load_encoder's 'none', so that loading it is visible."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(1)
        return open_clip.create_model(config).eval()


@pytest.fixture(scope="module")
def state_dict_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("weights") / "tiny.pt"
    torch.save(other_tiny_weights().state_dict(), path)
    return path


def features_of(net: torch.nn.Module, images: list[Path]) -> np.ndarray:
    """What open_clip itself computes for `images` with `net` (no mmc_core code on the path)."""
    preprocess = open_clip.image_transform(net.visual.image_size, is_train=False)
    with torch.no_grad():
        pixels = torch.stack([preprocess(Image.open(p).convert("RGB")) for p in images])
        return net.encode_image(pixels, normalize=True).numpy()


# ------------------------------------------------------------------------------------------------ building, sources


def test_tiny_random_encoder_gives_unit_features_deterministically(random_encoder, images):
    enc = random_encoder
    assert enc.is_random and enc.weights_id == "random" and enc.id == f"{TINY}@random"
    assert enc.embed_dim == 64 and enc.token_width == 64
    assert not any(p.requires_grad for p in enc.model.parameters()) and not enc.model.training
    feats = enc.encode_images(images, batch_size=2, progress=False)
    assert feats.shape == (3, 64) and feats.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(feats, axis=1), 1, atol=1e-5)
    np.testing.assert_array_equal(feats, enc.encode_images(images, batch_size=2, progress=False))
    np.testing.assert_allclose(feats, enc.encode_images(images, progress=False), atol=1e-6)  # batching is invisible
    assert not np.allclose(feats[0], feats[1])
    # 'none' is seeded: another build is the same model (else '<model>@random' would name different weights)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(12345)  # whatever the global generator's state
        again = load_encoder(TINY, "none")
    np.testing.assert_array_equal(feats, again.encode_images(images, batch_size=2, progress=False))
    texts = enc.encode_texts(["a photo of a dog", "a red card"])
    assert texts.shape == (2, 64) and texts.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(texts, axis=1), 1, atol=1e-5)


def test_a_missing_weights_file_is_refused_with_how_to_provide_it(tmp_path):
    missing = tmp_path / "ViT-B-32.pt"
    with pytest.raises(WeightsUnavailable) as err:
        load_encoder("ViT-B-32-quickgelu", str(missing))
    message = str(err.value)
    assert str(missing) in message and "make weights" in message and "ViT-B-32-quickgelu" in message


def test_an_unknown_model_config_is_refused():
    with pytest.raises(ValueError, match="unknown open_clip model config 'ViT-B-33'"):
        load_encoder("ViT-B-33", "none")


@pytest.mark.parametrize("suffix", [".pt", ".safetensors"])
def test_a_state_dict_file_loads_back_with_its_sha256_as_id(tmp_path, suffix, random_encoder, images):
    net = other_tiny_weights()
    path = tmp_path / f"tiny{suffix}"
    (save_file if suffix == ".safetensors" else torch.save)(net.state_dict(), path)
    enc = load_encoder(TINY, str(path))
    digest = sha256_file(path)
    assert not enc.is_random and enc.weights_id == digest and enc.id == f"{TINY}@{digest[:12]}"
    assert openai_signature(path) is None
    feats = enc.encode_images(images, progress=False)
    np.testing.assert_allclose(feats, features_of(net, images), atol=1e-6)
    assert not np.allclose(feats, random_encoder.encode_images(images, progress=False))


def test_weights_for_another_architecture_are_refused(state_dict_file):
    with pytest.raises(ValueError, match=r"do not fit the model config 'ViT-B-32-quickgelu'"):
        load_encoder("ViT-B-32-quickgelu", str(state_dict_file))


# ------------------------------------------------------------------------------------------------ OpenAI, QuickGELU


@pytest.fixture(scope="module")
def openai_style(tmp_path_factory) -> dict:
    """A tiny model in OpenAI's checkpoint form (its state dict plus OpenAI's integer entries), trained-as QuickGELU.

    Test configs `mmc-test-clip` and `mmc-test-clip-quickgelu` (text heads = width / 64: OpenAI's loader infers the
    head count so) are registered with open_clip. Weights are rounded to float16 values because OpenAI's loader casts
    them through float16, as OpenAI's releases are stored.
    """
    folder = tmp_path_factory.mktemp("openai")
    config = {**open_clip.get_model_config(TINY)}
    config["text_cfg"] = {**config["text_cfg"], "heads": 1}
    (folder / "mmc-test-clip.json").write_text(json.dumps(config))
    (folder / "mmc-test-clip-quickgelu.json").write_text(json.dumps({**config, "quick_gelu": True}))
    open_clip.add_model_config(folder)
    net = other_tiny_weights("mmc-test-clip-quickgelu")
    with torch.no_grad():
        for param in net.parameters():
            param.copy_(param.half().float())
    state = net.state_dict()
    torch.save(state, folder / "open_clip_form.pt")
    torch.save({**state, "input_resolution": 32, "context_length": 77, "vocab_size": 49408}, folder / "openai.pt")
    return {"path": folder / "openai.pt", "open_clip_form": folder / "open_clip_form.pt", "net": net}


def test_an_openai_checkpoint_with_a_plain_config_is_refused_naming_the_quickgelu_config(openai_style):
    assert "OpenAI's entries" in openai_signature(openai_style["path"])
    with pytest.raises(ValueError, match=r"trained with QuickGELU.*Use the model config 'mmc-test-clip-quickgelu'"):
        load_encoder("mmc-test-clip", str(openai_style["path"]))


def test_an_openai_checkpoint_loads_with_the_quickgelu_config(openai_style, images):
    enc = load_encoder("mmc-test-clip-quickgelu", str(openai_style["path"]))
    same = load_encoder("mmc-test-clip-quickgelu", str(openai_style["open_clip_form"]))
    assert enc.weights_id == sha256_file(openai_style["path"]) and enc.weights_id != same.weights_id
    np.testing.assert_allclose(enc.encode_images(images, progress=False), features_of(openai_style["net"], images),
                               atol=1e-5)
    np.testing.assert_allclose(enc.encode_texts(["a photo of a dog"]), same.encode_texts(["a photo of a dog"]),
                               atol=1e-5)


def test_an_openai_checkpoint_of_another_architecture_is_refused(openai_style):
    with pytest.raises(ValueError, match="another architecture than the model config 'ViT-B-32-quickgelu'"):
        load_encoder("ViT-B-32-quickgelu", str(openai_style["path"]))


@pytest.mark.filterwarnings("ignore:`torch.jit.:FutureWarning")  # making the archive: torch deprecates TorchScript
def test_a_torchscript_archive_is_taken_for_an_openai_checkpoint(tmp_path):
    path = tmp_path / "ViT-B-32.pt"
    torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), path)
    assert "TorchScript" in openai_signature(path)
    with pytest.raises(ValueError, match="quick_gelu: true"):  # refused before anything is loaded
        load_encoder(TINY, str(path))


def test_known_weights_are_open_clips_openai_vit_b_32():
    known = KNOWN_WEIGHTS["openai-ViT-B-32"]
    assert known.url == open_clip.get_pretrained_url("ViT-B-32", "openai")
    assert known.url.split("/")[-2] == known.sha256 and known.filename == "ViT-B-32.pt"
    assert open_clip.get_model_config(known.model)["quick_gelu"] is True


# ------------------------------------------------------------------------------------------------ Hugging Face cache


@pytest.fixture
def hub_cache(tmp_path, monkeypatch) -> Path:
    """An empty Hugging Face cache at tmp_path/hub, used instead of the user's."""
    from huggingface_hub import constants
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    return tmp_path / "hub"


def cache_repo(cache: Path, repo: str, files: dict[str, object]) -> Path:
    """Lay `files` out as a cached snapshot of `repo` (a dict is written as JSON, a model as safetensors)."""
    revision = "0" * 40
    base = cache / f"models--{repo.replace('/', '--')}"
    (base / "refs").mkdir(parents=True)
    (base / "refs" / "main").write_text(revision)
    snapshot = base / "snapshots" / revision
    snapshot.mkdir(parents=True)
    for name, content in files.items():
        if isinstance(content, dict):
            (snapshot / name).write_text(json.dumps(content))
        else:
            save_file(content.state_dict(), snapshot / name)
    return snapshot


def test_a_hub_repo_absent_from_the_cache_is_refused_offline(hub_cache):
    with pytest.raises(WeightsUnavailable, match=r"hf-hub:mmc-test/absent has neither.*make weights"):
        load_encoder(TINY, "hf-hub:mmc-test/absent")


def test_a_cached_hub_repo_loads_and_its_activation_is_checked(hub_cache, images):
    net = other_tiny_weights()
    snapshot = cache_repo(hub_cache, "mmc-test/tiny", {"open_clip_model.safetensors": net})
    enc = load_encoder(TINY, "hf-hub:mmc-test/tiny")
    assert enc.weights_id == sha256_file(snapshot / "open_clip_model.safetensors")
    np.testing.assert_allclose(enc.encode_images(images, progress=False), features_of(net, images), atol=1e-6)
    config = {"model_cfg": open_clip.get_model_config(TINY), "preprocess_cfg": {"mean": [0.5] * 3, "std": [0.5] * 3}}
    (snapshot / "open_clip_config.json").write_text(json.dumps(config))
    assert not np.allclose(load_encoder(TINY, "hf-hub:mmc-test/tiny").encode_images(images, progress=False),
                           features_of(net, images), atol=1e-3)  # the repository's preprocessing is used
    config["model_cfg"]["quick_gelu"] = True
    (snapshot / "open_clip_config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="with quick_gelu: true: its weights were trained with QuickGELU"):
        load_encoder(TINY, "hf-hub:mmc-test/tiny")


# ------------------------------------------------------------------------------------------------ damaged weights


def damaged(path: Path, how: str) -> Path:
    """A copy of the weights file at `path`, next to it, cut to half its length or with one byte flipped halfway."""
    data = bytearray(path.read_bytes())
    if how == "truncated":
        data = data[:len(data) // 2]
    else:
        data[len(data) // 2] ^= 0xFF
    copy = path.with_name(f"{how}-{path.name}")
    copy.write_bytes(bytes(data))
    return copy


@pytest.mark.parametrize("suffix,how", [(".pt", "truncated"), (".pt", "flipped"), (".safetensors", "truncated")])
def test_a_damaged_weights_file_is_refused_naming_it(tmp_path, suffix, how):
    """Not torch's or safetensors' own error naming no file (a truncated .pt read as "weights that do not fit", a
    flipped byte inside a zip member loaded as if intact)."""
    path = tmp_path / f"tiny{suffix}"
    (save_file if suffix == ".safetensors" else torch.save)(other_tiny_weights().state_dict(), path)
    copy = damaged(path, how)
    with pytest.raises(WeightsUnreadable, match=re.escape(str(copy)) + r" cannot be read .*truncated, damaged"):
        load_encoder(TINY, str(copy))
    empty = tmp_path / f"empty{suffix}"
    empty.write_bytes(b"")
    with pytest.raises(WeightsUnreadable, match=re.escape(str(empty))):
        load_encoder(TINY, str(empty))


def test_known_weights_with_another_sha256_are_refused_naming_the_file(tmp_path, monkeypatch, state_dict_file):
    """The file `make weights` fetched, whose bytes are no longer the published ones; the same file elsewhere is
    not taken for it."""
    fake = KnownWeights(model=TINY, url=f"https://example.invalid/{state_dict_file.name}", sha256="0" * 64)
    monkeypatch.setitem(KNOWN_WEIGHTS, "openai-ViT-B-32", fake)
    monkeypatch.setenv("MMC_DATA_DIR", str(tmp_path / "data"))
    fetched = tmp_path / "data" / "clip" / fake.filename
    fetched.parent.mkdir(parents=True)
    fetched.write_bytes(state_dict_file.read_bytes())
    with pytest.raises(WeightsUnreadable, match=re.escape(f"{fetched} has sha256 {sha256_file(fetched)}, but "
                                                          f"{fake.url} is published with sha256 {'0' * 64}")):
        load_encoder(TINY, str(fetched))
    assert not load_encoder(TINY, str(state_dict_file)).is_random


def test_a_hub_blob_that_is_not_its_sha256_is_refused_naming_it(hub_cache):
    """The Hugging Face cache files an LFS blob under its sha256: a blob damaged in place no longer is it."""
    snapshot = cache_repo(hub_cache, "mmc-test/tiny", {"open_clip_model.safetensors": other_tiny_weights()})
    weights = snapshot / "open_clip_model.safetensors"
    blob = snapshot.parents[1] / "blobs" / sha256_file(weights)
    blob.parent.mkdir()
    weights.rename(blob)
    weights.symlink_to(blob)
    assert not load_encoder(TINY, "hf-hub:mmc-test/tiny").is_random
    data = bytearray(blob.read_bytes())
    data[-1] ^= 0xFF  # a weight, not the header
    blob.write_bytes(bytes(data))
    with pytest.raises(WeightsUnreadable, match=re.escape(str(weights)) + " has sha256 .*, but the blob"):
        load_encoder(TINY, "hf-hub:mmc-test/tiny")
    (snapshot / "open_clip_config.json").write_text("{")
    with pytest.raises(WeightsUnreadable, match=re.escape(str(snapshot / "open_clip_config.json"))):
        load_encoder(TINY, "hf-hub:mmc-test/tiny")


# ------------------------------------------------------------------------------------------------ proxy tokens


def test_a_prompt_with_a_word_embedding_in_place_of_the_placeholder_is_that_prompt(random_encoder):
    enc = random_encoder
    assert all(len(enc.tokenizer.encode(word)) == 1 for word in ("dog", "red"))
    tokens = torch.stack([enc.word_token_embedding("dog"), enc.word_token_embedding("red")])
    out = enc.encode_prompts_with_token("a photo of a * card", tokens)
    assert out.shape == (2, enc.embed_dim)
    expected = enc.encode_texts(["a photo of a dog card", "a photo of a red card"])
    np.testing.assert_allclose(F.normalize(out, dim=-1).numpy(), expected, atol=1e-6)


def test_gradients_reach_the_proxy_tokens_and_not_the_encoder(random_encoder):
    enc = random_encoder
    tokens = torch.randn(3, enc.token_width, requires_grad=True)
    enc.encode_prompts_with_token("a * card", tokens).pow(2).sum().backward()
    assert tokens.grad is not None and (tokens.grad.abs().sum(dim=1) > 0).all()
    assert all(p.grad is None and not p.requires_grad for p in enc.model.parameters())


def test_the_authors_prompt_path_is_the_full_one_without_positions_and_final_layernorm(random_encoder):
    """Multi-MaP's encode_text_with_learnt_tokens: token embeddings with the proxy swapped in, the text transformer
    under its causal mask, the end-of-text row, the projection: no positional embedding, no ln_final."""
    import copy
    import dataclasses

    enc = random_encoder
    tokens = torch.randn(3, enc.token_width, generator=torch.Generator().manual_seed(0)) * 0.02
    template = "a photo of a * card"
    authors = enc.encode_prompts_with_token(template, tokens, "authors")
    full = enc.encode_prompts_with_token(template, tokens, "full")
    assert authors.shape == full.shape == (3, enc.embed_dim)
    ids = enc.tokenizer([template])
    (where,) = (ids[0] == enc.tokenizer.encode("*")[0]).nonzero().flatten().tolist()
    x = enc.model.token_embedding(ids).repeat(3, 1, 1)
    x[:, where] = tokens
    x = enc.model.transformer(x, attn_mask=enc.model.attn_mask)  # the causal mask OpenAI's blocks carry
    expected = x[:, int(ids[0].argmax())] @ enc.model.text_projection
    torch.testing.assert_close(authors, expected, rtol=1e-5, atol=1e-6)
    # the two paths differ by exactly the positional embedding and the final LayerNorm
    bare = dataclasses.replace(enc, model=copy.deepcopy(enc.model))
    bare.model.positional_embedding.zero_()
    bare.model.ln_final = torch.nn.Identity()
    torch.testing.assert_close(bare.encode_prompts_with_token(template, tokens, "full"), authors, rtol=1e-5,
                               atol=1e-6)
    relative = ((authors - full).norm(dim=1) / full.norm(dim=1)).min()
    assert relative > 0.3, f"the paths should differ clearly on a random tower, not by {relative:.2f}"
    with pytest.raises(ValueError, match="path must be one of"):
        enc.encode_prompts_with_token(template, tokens, "openai")


@pytest.mark.parametrize("template", ["a photo of a card", "a * of a * card", "a *-shaped card"])
def test_a_template_must_hold_the_placeholder_once_as_a_word(random_encoder, template):
    with pytest.raises(ValueError, match="exactly once"):
        random_encoder.encode_prompts_with_token(template, torch.zeros(1, random_encoder.token_width))


# ------------------------------------------------------------------------------------------------ feature cache


@pytest.fixture
def results(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("MMC_RESULTS_DIR", str(tmp_path / "results"))
    return tmp_path / "results"


def fake_image_set(monkeypatch, root: Path, files: list[Path]) -> None:
    """load_image_dataset, as features.py calls it, returns `files` as the CMUface set."""
    def fake(name, data_dir=None, resolution=None):
        return ImageDataset(name="CMUface", root=root, paths=list(files), labels={}, class_names={})
    monkeypatch.setattr(features_module, "load_image_dataset", fake)


def refuse(*_args, **_kwargs):
    raise AssertionError("re-encoded although the features are cached")


def test_image_features_are_cached_under_the_encoder_id_and_checked(results, monkeypatch, images, random_encoder,
                                                                    state_dict_file):
    fake_image_set(monkeypatch, images[0].parent, images)
    first = image_features("CMUface", random_encoder, progress=False)
    cached = results / "features" / "CMUface" / f"{TINY}@random.npy"
    assert cached.is_file() and json.loads(cached.with_suffix(".json").read_text())["n_images"] == 3
    with monkeypatch.context() as patch:
        patch.setattr(ClipEncoder, "encode_images", refuse)
        np.testing.assert_array_equal(image_features("CMUface", random_encoder), first)

    # real weights of the same model: their own file, their own features
    loaded = load_encoder(TINY, str(state_dict_file))
    assert not np.allclose(image_features("CMUface", loaded, progress=False), first)
    assert (results / "features" / "CMUface" / f"{loaded.id}.npy").is_file()

    # the image set changed under the same name: refused, naming the file to delete
    fake_image_set(monkeypatch, images[0].parent, images[:2])
    with pytest.raises(FeatureCacheMismatch, match=re.escape(str(cached)) + r".*image_paths_sha256, n_images"):
        image_features("CMUface", random_encoder)
    cached.with_suffix(".json").unlink()
    with pytest.raises(FeatureCacheMismatch, match="sidecar .* is missing"):
        image_features("CMUface", random_encoder)


def cached_text_features(results: Path, random_encoder: ClipEncoder) -> tuple[np.ndarray, Path]:
    """Text features computed once and cached, with the cache file."""
    first = text_features(["a photo of a dog", "a red card"], random_encoder)
    [cached] = (results / "features" / "texts").glob(f"*/{TINY}@random.npy")
    return first, cached


def test_a_cached_feature_array_edited_in_place_is_not_used(results, monkeypatch, random_encoder):
    """The finding: an array edited with its shape kept was used, its sidecar recording no checksum of it. It is
    recomputed (a warning names it) and rewritten, so the next run reads it again."""
    first, cached = cached_text_features(results, random_encoder)
    edited = np.load(cached)
    edited[0, 0] += 0.5
    np.save(cached, edited)
    with pytest.warns(FeatureCacheWarning, match=re.escape(str(cached)) + r" are not used: it was edited"):
        again = text_features(["a photo of a dog", "a red card"], random_encoder)
    np.testing.assert_array_equal(again, first)
    monkeypatch.setattr(ClipEncoder, "encode_texts", refuse)
    np.testing.assert_array_equal(text_features(["a photo of a dog", "a red card"], random_encoder), first)


@pytest.mark.parametrize("damage", ["truncated", "no checksum"])
def test_a_truncated_or_unchecked_cached_array_is_recomputed_naming_it(results, random_encoder, damage):
    """A truncated array raised numpy's bare EOFError/ValueError; one cached before checksums were recorded cannot be
    vouched for."""
    first, cached = cached_text_features(results, random_encoder)
    if damage == "truncated":
        cached.write_bytes(cached.read_bytes()[:100])
    else:
        sidecar = cached.with_suffix(".json")
        sidecar.write_text(json.dumps({k: v for k, v in json.loads(sidecar.read_text()).items()
                                       if k != "array_sha256"}))
    with pytest.warns(FeatureCacheWarning, match=re.escape(str(cached))):
        np.testing.assert_array_equal(text_features(["a photo of a dog", "a red card"], random_encoder), first)


def test_an_unreadable_sidecar_is_refused_naming_the_files(results, random_encoder):
    """A damaged sidecar raised json's bare JSONDecodeError."""
    _, cached = cached_text_features(results, random_encoder)
    cached.with_suffix(".json").write_text('{"model": ')
    with pytest.raises(FeatureCacheMismatch, match=re.escape(str(cached.with_suffix(".json"))) + ".*cannot be read.*"
                                                   "Delete"):
        text_features(["a photo of a dog", "a red card"], random_encoder)


def test_text_features_are_cached_by_the_texts(results, monkeypatch, random_encoder):
    calls = []
    encode = ClipEncoder.encode_texts
    monkeypatch.setattr(ClipEncoder, "encode_texts", lambda self, texts: calls.append(texts) or encode(self, texts))
    first = text_features(["a photo of a dog", "a red card"], random_encoder)
    again = text_features(["a photo of a dog", "a red card"], random_encoder)
    other = text_features(["a photo of a dog", "a black card"], random_encoder)
    assert len(calls) == 2 and np.array_equal(first, again) and not np.allclose(first[1], other[1])
    np.testing.assert_array_equal(first, random_encoder.encode_texts(["a photo of a dog", "a red card"]))
    assert len(list((results / "features" / "texts").glob(f"*/{TINY}@random.npy"))) == 2


def test_cmuface_is_encoded_once(results, monkeypatch, random_encoder):
    if not is_available(get_entry("CMUface"), paths.data_dir()):
        pytest.skip(f"CMUface is not staged in {paths.data_dir()} (make data DATA_MIRROR=...)")
    feats = image_features("CMUface", random_encoder, progress=False)
    assert feats.shape == (624, 64)
    np.testing.assert_allclose(np.linalg.norm(feats, axis=1), 1, atol=1e-5)
    monkeypatch.setattr(ClipEncoder, "encode_images", refuse)
    np.testing.assert_array_equal(image_features("CMUface", random_encoder), feats)


# ------------------------------------------------------------------------------------------------ make weights


class FakeResponse(io.BytesIO):
    """What urllib.request.urlopen returns, as far as the download reads it."""

    headers: dict[str, str] = {}


def serve(monkeypatch, payload: bytes | Exception) -> None:
    def urlopen(url, timeout=None):
        if isinstance(payload, Exception):
            raise payload
        return FakeResponse(payload)
    monkeypatch.setattr(urllib.request, "urlopen", urlopen)


def test_fetching_weights_without_network_fails_with_one_line_naming_url_and_sha256(tmp_path, monkeypatch, capsys):
    serve(monkeypatch, urllib.error.URLError("no network"))
    assert fetch_module.main(["--dest", str(tmp_path / "clip")]) == 1
    err = capsys.readouterr().err
    known = KNOWN_WEIGHTS["openai-ViT-B-32"]
    assert err.count("\n") == 1 and known.url in err and known.sha256 in err and "no network" in err
    dest = tmp_path / "clip"
    assert not dest.exists() or not any(dest.iterdir()), "nothing, not even a temporary file, is left behind"


def test_fetched_weights_are_kept_only_with_the_expected_sha256(tmp_path, monkeypatch, capsys):
    serve(monkeypatch, b"not the weights")
    assert fetch_module.main(["--dest", str(tmp_path)]) == 1
    assert "the download has sha256" in capsys.readouterr().err and not any(tmp_path.iterdir())
    payload = b"tiny weights"
    fake = KnownWeights(model=TINY, url="https://example.invalid/tiny.pt", sha256=hashlib.sha256(payload).hexdigest())
    monkeypatch.setitem(KNOWN_WEIGHTS, "openai-ViT-B-32", fake)
    serve(monkeypatch, payload)
    assert fetch_module.main(["--dest", str(tmp_path)]) == 0 and (tmp_path / "tiny.pt").read_bytes() == payload
    serve(monkeypatch, urllib.error.URLError("no network"))
    assert fetch_module.main(["--dest", str(tmp_path)]) == 0 and "present" in capsys.readouterr().out
    assert [p.name for p in tmp_path.iterdir()] == ["tiny.pt"]


def test_make_weights_runs_the_fetch_cli():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r'^weights: venv\n\t\$\(PY\) -m mmc_core\.encoders\.fetch --dest "\$\(WEIGHTS_DIR\)"$', makefile,
                     re.M)
    assert re.search(r"^\.PHONY:.* weights\b", makefile, re.M)
    last = re.search(r"@sed -n '2,(\d+)p' Makefile", makefile)  # `make help` prints the comment block at the top
    shown = makefile.splitlines()[1:int(last.group(1))] if last else []
    assert any("make weights" in line for line in shown) and all(line.startswith("#") for line in shown)
