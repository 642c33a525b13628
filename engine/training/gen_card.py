"""The words of the generated-image detector's model card (the numbers come from the release
and from ``engine.training.gen_eval``)."""

from __future__ import annotations

__all__ = ["GEN_TERMS", "card_text", "gen_terms"]

_TAEF2 = ("TAEF2 (madebyollin/taesd commit 5cccb12, MIT licence; encoder SHA-256 "
          "10a4e102..., decoder 0a44a31e...)")


def gen_terms(generators: str) -> str:
    """The data terms of a detector trained on our real pictures against their
    reconstructions by ``generators`` (words naming the generators and their terms)."""
    return (
        "Real pictures: UTKFace `crop_part1` (non-commercial research only; copyright stays "
        "with the photo owners), CelebA crops (non-commercial research only) and frames of the "
        "real clips in `videos_real` (research demo use: MIT/Apache code repositories, clips "
        f"from the internet, Pexels licence). Fakes: their reconstructions by {generators}. "
        "No generated image made by anyone else was trained on: `faces_gan` and `dev_bench` "
        "are validation only. No image is shipped; the weights are for research use only."
    )


GEN_TERMS = gen_terms("four autoencoders we trained on those pictures "
                      f"(`engine.synthesis.trace_ae`) and by {_TAEF2}")


def card_text(detector: str) -> dict[str, str]:
    """Display name, scope, terms, summary, limitations and metrics note of ``detector``.

    Raises:
        KeyError: a detector this module has no words for.
    """
    return {"gen_nprnet": _nprnet, "gen_probe_effl0": _probe,
            "gen_probe_face_effl0": _probe_face}[detector]()


def _nprnet() -> dict[str, str]:
    return {
        "display_name": "Generated image (native-resolution traces)",
        "scope": "image",
        "data_terms": GEN_TERMS,
        "summary": (
            "Looks for the pixel traces image generators leave (upsampling, latent decoders) "
            "in native-resolution 128 px tiles of the whole picture and of each face region, "
            "never resized: RGB plus the neighbouring-pixel residual x - up(down(x)) (NPR), a "
            "network without early downsampling (Corvi et al.), trained from scratch on pairs "
            "of real pictures and their reconstructions by generators we made (AutoGAN-style "
            "autoencoders with four upsamplers, TAEF2). A picture's score pools the top 25% "
            "of its tile logits; the map is the probability of each tile."),
        "limitations": (
            "Trained on reconstructions of about five thousand real pictures (mostly face "
            "crops of 100-200 px and frames of twenty short clips) by five small generators, "
            "for about an hour on a shared CPU: it has seen no image of any real GAN or "
            "diffusion model, and what it learnt is what our generators have in common with "
            "them. Resampling, strong JPEG, filters and screenshots weaken the traces; "
            "partial manipulations (inpainting, face swaps) leave generator traces in some "
            "tiles only. The threshold holds the false-alarm rate on held-out real pictures "
            "near 3%; on other people's real media it is measured per source in the card "
            "(held_out_generators). Read the per-generator table before relying on a score."),
        "metrics_note": (
            "val_pairs = held-out real pictures (other files, other videos) vs their "
            "reconstructions by our generators, each 192 px picture scored as the app scores "
            "it (tiles pooled), on the pairs not used for calibration; "
            "auc_by_generator_all_val per generator on all pairs. val_real_pictures = "
            "held-out real stills and video frames at the shipped threshold (set there at a "
            "3% false-alarm rate). held_out_generators = other people's generators and real "
            "media (faces_gan, dev_bench), per generator and view (python -m "
            "engine.training.gen_eval); docs/MODELS_GEN.md has the tables."),
    }


def _probe() -> dict[str, str]:
    return {
        "display_name": "Generated image (linear probe on ImageNet features)",
        "scope": "image",
        "data_terms": gen_terms(_TAEF2),
        "summary": (
            "Looks for what latent-decoder generators leave in the texture statistics of a "
            "picture: native-resolution 256 px tiles of the whole picture (never resized, "
            "except a picture smaller than one tile) go through EfficientNet-Lite0 with its "
            "ImageNet weights, frozen; the mean and standard deviation of every channel of "
            "four feature maps are standardised and weighed by one linear layer (a linear "
            "probe, after UnivFD, Ojha et al. CVPR 2023) trained on real pictures against "
            "their TAEF2 reconstructions. A picture's score is the mean of its tile logits; "
            "the map is the probability of each tile. Its evidence counts with gan_effl0's "
            "in the generated-image finding: the two fail on different generators."),
        "limitations": (
            "The probe has seen no image of any real GAN or diffusion model: it learnt how "
            "one small latent autoencoder (TAEF2) changes the ImageNet features of about a "
            "thousand real face pictures (100-200 px crops and frames of twenty clips) and "
            "is right on other generators only as far as they share that change. On the dev "
            "bench it ranks diffusion faces and StyleGAN portraits well and "
            "pixel2style2pixel outputs below real photos (docs/MODELS_GEN.md). Strong JPEG "
            "weakens it on some generators; a picture smaller than a tile is upscaled. Video "
            "compression hides what it reads: one H.264 frame at the default quality (CRF 23) "
            "takes it below chance on the held-out portraits (0.370 against 0.879 native) and "
            "moves real photos towards 'real', so in a compressed video its 'real' is weak "
            "evidence. The "
            "threshold holds the false-alarm rate on held-out real pictures near 3%; on other "
            "people's real media it is measured per source (held_out_generators)."),
        "metrics_note": (
            "val_pairs = held-out real pictures (other files, other videos) vs their TAEF2 "
            "reconstructions, each 192 px picture scored as the app scores it, on the pairs "
            "not used for calibration. val_real_pictures = held-out real stills and video "
            "frames at the shipped threshold (set there at a 3% false-alarm rate). "
            "held_out_generators = other people's generators and real media (faces_gan, "
            "dev_bench), per generator and view (python -m engine.training.gen_eval); "
            "docs/MODELS_GEN.md has the tables."),
    }


def _probe_face() -> dict[str, str]:
    probe = _probe()
    return {
        "display_name": "Decoder-made face (linear probe on face regions)",
        "scope": "face",
        "data_terms": probe["data_terms"],
        "summary": (
            "The weights of gen_probe_effl0 read on each face's region only (one native 256 px "
            "tile around the face, never resized except a region smaller than a tile), as "
            "evidence of a face swap: the swapped face is the output of a neural decoder "
            "(DeepFaceLab/DeepFaceLive, roop and the like) pasted into a picture that is not. "
            "Its evidence counts in the face-swap finding beside SBI, Face X-ray and MAT, never "
            "in the generated-image finding, where gen_probe_effl0 reads the whole picture."),
        "limitations": (
            "Trained only to tell real pictures from their TAEF2 reconstructions, never on a "
            "face swap: it sees a swapped face as far as the swapping tool's decoder leaves a "
            "trace like TAEF2's. A fully generated face scores high here too (the finding then "
            "also shows the generated-image evidence); swaps made without a neural decoder "
            "(graphics-based FaceSwap, hand-made composites) leave no such trace. " +
            probe["limitations"]),
        "metrics_note": (
            "The network and its calibration are gen_probe_effl0's (its val_pairs and "
            "val_real_pictures, measured on whole pictures, are in that card; derived_from "
            "names it). dev_bench = this detector on the dev bench's face regions (python -m "
            "engine.evaluation.devbench --record-cards)."),
    }
