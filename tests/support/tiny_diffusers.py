"""Tiny random LTX-Video, LTX-2, Wan and SVD pipelines built from config objects (no download).

The component sizes follow diffusers' own ``get_dummy_components`` for each family, with a
``ByT5Tokenizer`` (no vocab file) and a matching 384-token T5 encoder instead of the hub's
tiny-random-t5, so building one needs no network at all. LTX-2's text encoder (Gemma 3,
which diffusers' test loads from the hub's tiny-gemma3) is built from a ``Gemma3Config``
with an empty ``GemmaTokenizer()``.
"""

from __future__ import annotations

from pathlib import Path

TINY_LTX = "tiny-ltx"
TINY_WAN = "tiny-wan"
TINY_WAN_SLOW = "tiny-wan-4fps"
"""The Wan weights again at 4 fps, so a request at 8 fps needs interpolation."""
TINY_WAN_TI2V = "tiny-wan-ti2v"
"""A tiny Wan 2.2 TI2V-style pipeline (``expand_timesteps``): text- and image-to-video."""
TINY_LTX_UP = "tiny-ltx-upsampled"
"""The LTX weights again with a tiny x2 latent upsampler."""
TINY_LTX_DISTILLED = "tiny-ltx-distilled"
"""The LTX weights driven as LTX 0.9.7 distilled is: LTXConditionPipeline with timesteps."""
TINY_SVD = "tiny-svd"
"""A tiny Stable Video Diffusion pipeline: image in, no text."""
TINY_LTX2 = "tiny-ltx-2"
"""A tiny LTX-2 pipeline: video and sound in one call (``audio = true``)."""
TINY_LTX2_RATE = 16_000
"""The tiny LTX-2 vocoder's output rate (LTX-2's own is 24 kHz)."""
TINY_WAN_A14B = "tiny-wan-a14b-i2v"
"""A tiny Wan 2.2 A14B-style image-to-video pipeline: two experts (``transformer_2``), a
``boundary_ratio``, ``guidance_scale_2``, and a last image (FLF2V)."""


def build_ltx(folder: Path) -> None:
    """Saves a tiny random LTXPipeline (32x32 latents multiple, 8k+1 frames) in ``folder``."""
    import torch
    from diffusers import (
        AutoencoderKLLTXVideo,
        FlowMatchEulerDiscreteScheduler,
        LTXPipeline,
        LTXVideoTransformer3DModel,
    )
    from transformers import ByT5Tokenizer, T5Config, T5EncoderModel

    torch.manual_seed(0)
    transformer = LTXVideoTransformer3DModel(
        in_channels=8,
        out_channels=8,
        patch_size=1,
        patch_size_t=1,
        num_attention_heads=4,
        attention_head_dim=8,
        cross_attention_dim=32,
        num_layers=1,
        caption_channels=32,
    )
    vae = AutoencoderKLLTXVideo(
        in_channels=3,
        out_channels=3,
        latent_channels=8,
        block_out_channels=(8, 8, 8, 8),
        decoder_block_out_channels=(8, 8, 8, 8),
        layers_per_block=(1, 1, 1, 1, 1),
        decoder_layers_per_block=(1, 1, 1, 1, 1),
        spatio_temporal_scaling=(True, True, False, False),
        decoder_spatio_temporal_scaling=(True, True, False, False),
        decoder_inject_noise=(False, False, False, False, False),
        upsample_residual=(False, False, False, False),
        upsample_factor=(1, 1, 1, 1),
        timestep_conditioning=False,
        patch_size=1,
        patch_size_t=1,
        encoder_causal=True,
        decoder_causal=False,
    )
    vae.use_framewise_encoding = False
    vae.use_framewise_decoding = False
    text_encoder = _t5(T5Config, T5EncoderModel)
    pipe = LTXPipeline(
        transformer=transformer,
        vae=vae,
        scheduler=FlowMatchEulerDiscreteScheduler(),
        text_encoder=text_encoder,
        tokenizer=ByT5Tokenizer(),
    )
    pipe.save_pretrained(folder)


def build_ltx2(folder: Path) -> None:
    """Saves a tiny random LTX2Pipeline (32x32 multiple, 8k+1 frames, stereo sound at
    :data:`TINY_LTX2_RATE`) in ``folder``.

    The sizes are diffusers' tests/pipelines/ltx2 dummy components, except the vocoder's
    upsampling: there it is x4 (a few samples per clip); here it is x160, the audio VAE's
    mel hop, as in the real model, so a clip's waveform lasts as long as its frames.
    """
    import torch
    from diffusers import (
        AutoencoderKLLTX2Audio,
        AutoencoderKLLTX2Video,
        FlowMatchEulerDiscreteScheduler,
        LTX2Pipeline,
        LTX2VideoTransformer3DModel,
    )
    from diffusers.pipelines.ltx2 import LTX2TextConnectors
    from diffusers.pipelines.ltx2.vocoder import LTX2Vocoder
    from transformers import Gemma3Config, Gemma3ForConditionalGeneration, GemmaTokenizer

    torch.manual_seed(0)
    # The text width must be 32: the connectors are 4 heads of 8.
    text_encoder = Gemma3ForConditionalGeneration(
        Gemma3Config(
            text_config={
                "hidden_size": 32,
                "intermediate_size": 37,
                "num_hidden_layers": 2,
                "num_attention_heads": 4,
                "num_key_value_heads": 2,
                "head_dim": 8,
                "vocab_size": 64,
            },
            vision_config={
                "hidden_size": 16,
                "intermediate_size": 37,
                "num_hidden_layers": 1,
                "num_attention_heads": 2,
                "image_size": 28,
                "patch_size": 14,
            },
            mm_tokens_per_image=4,
        )
    ).eval()
    width = text_encoder.config.text_config.hidden_size
    transformer = LTX2VideoTransformer3DModel(
        in_channels=4,
        out_channels=4,
        patch_size=1,
        patch_size_t=1,
        num_attention_heads=2,
        attention_head_dim=8,
        cross_attention_dim=16,
        audio_in_channels=4,
        audio_out_channels=4,
        audio_num_attention_heads=2,
        audio_attention_head_dim=4,
        audio_cross_attention_dim=8,
        num_layers=2,
        qk_norm="rms_norm_across_heads",
        caption_channels=width,
        rope_double_precision=False,
        rope_type="split",
    )
    connectors = LTX2TextConnectors(
        caption_channels=width,
        text_proj_in_factor=text_encoder.config.text_config.num_hidden_layers + 1,
        video_connector_num_attention_heads=4,
        video_connector_attention_head_dim=8,
        video_connector_num_layers=1,
        video_connector_num_learnable_registers=None,
        audio_connector_num_attention_heads=4,
        audio_connector_attention_head_dim=8,
        audio_connector_num_layers=1,
        audio_connector_num_learnable_registers=None,
        connector_rope_base_seq_len=32,
        rope_theta=10000.0,
        rope_double_precision=False,
        causal_temporal_positioning=False,
        rope_type="split",
    )
    vae = AutoencoderKLLTX2Video(
        in_channels=3,
        out_channels=3,
        latent_channels=4,
        block_out_channels=(8,),
        decoder_block_out_channels=(8,),
        layers_per_block=(1,),
        decoder_layers_per_block=(1, 1),
        spatio_temporal_scaling=(True,),
        decoder_spatio_temporal_scaling=(True,),
        decoder_inject_noise=(False, False),
        downsample_type=("spatial",),
        upsample_residual=(False,),
        upsample_factor=(1,),
        timestep_conditioning=False,
        patch_size=1,
        patch_size_t=1,
        encoder_causal=True,
        decoder_causal=False,
    )
    vae.use_framewise_encoding = False
    vae.use_framewise_decoding = False
    audio_vae = AutoencoderKLLTX2Audio(
        base_channels=4,
        output_channels=2,
        ch_mult=(1,),
        num_res_blocks=1,
        attn_resolutions=None,
        in_channels=2,
        resolution=32,
        latent_channels=2,
        norm_type="pixel",
        causality_axis="height",
        dropout=0.0,
        mid_block_add_attention=False,
        sample_rate=TINY_LTX2_RATE,
        mel_hop_length=160,
        is_causal=True,
        mel_bins=8,
    )
    vocoder = LTX2Vocoder(
        in_channels=audio_vae.config.output_channels * audio_vae.config.mel_bins,
        hidden_channels=32,
        out_channels=2,
        upsample_kernel_sizes=[16, 40],
        upsample_factors=[8, 20],
        resnet_kernel_sizes=[3],
        resnet_dilations=[[1, 3, 5]],
        leaky_relu_negative_slope=0.1,
        output_sampling_rate=TINY_LTX2_RATE,
    )
    LTX2Pipeline(
        scheduler=FlowMatchEulerDiscreteScheduler(),
        vae=vae,
        audio_vae=audio_vae,
        text_encoder=text_encoder,
        tokenizer=GemmaTokenizer(),
        connectors=connectors,
        transformer=transformer,
        vocoder=vocoder,
    ).save_pretrained(folder)


def build_ltx_upsampler(ltx: Path, folder: Path) -> None:
    """Saves a tiny random x2 LTXLatentUpsamplePipeline over the VAE saved in ``ltx``."""
    import torch
    from diffusers import AutoencoderKLLTXVideo, LTXLatentUpsamplePipeline
    from diffusers.pipelines.ltx.modeling_latent_upsampler import LTXLatentUpsamplerModel

    torch.manual_seed(0)
    upsampler = LTXLatentUpsamplerModel(
        in_channels=8,
        mid_channels=32,
        num_blocks_per_stage=1,
        dims=3,
        spatial_upsample=True,
        temporal_upsample=False,
    )
    vae = AutoencoderKLLTXVideo.from_pretrained(ltx / "vae")
    LTXLatentUpsamplePipeline(vae=vae, latent_upsampler=upsampler).save_pretrained(folder)


def build_wan(folder: Path, *, expand_timesteps: bool = False, two_experts: bool = False) -> None:
    """Saves a tiny random WanPipeline (16x16 multiple, 4k+1 frames) in ``folder``; with
    ``expand_timesteps`` it conditions on an image the way Wan 2.2 TI2V does; with
    ``two_experts`` it is Wan 2.2 A14B image-to-video's shape (two transformers taking the
    image latents beside the noise, as diffusers' test_wan_22_image_to_video builds them)."""
    import torch
    from diffusers import (
        AutoencoderKLWan,
        FlowMatchEulerDiscreteScheduler,
        WanPipeline,
        WanTransformer3DModel,
    )
    from transformers import ByT5Tokenizer, UMT5Config, UMT5EncoderModel

    torch.manual_seed(0)
    vae = AutoencoderKLWan(
        base_dim=3,
        z_dim=16,
        dim_mult=[1, 1, 1, 1],
        num_res_blocks=1,
        temperal_downsample=[False, True, True],
    )

    def expert() -> WanTransformer3DModel:
        return WanTransformer3DModel(
            patch_size=(1, 2, 2),
            num_attention_heads=2,
            attention_head_dim=12,
            # Image-to-video without expand_timesteps: noise, mask (4) and image latents.
            in_channels=36 if two_experts else 16,
            out_channels=16,
            text_dim=32,
            freq_dim=256,
            ffn_dim=32,
            num_layers=2,
            cross_attn_norm=True,
            qk_norm="rms_norm_across_heads",
            rope_max_seq_len=32,
        )

    transformer = expert()
    text_encoder = _t5(UMT5Config, UMT5EncoderModel)
    if two_experts:
        from diffusers import WanImageToVideoPipeline

        WanImageToVideoPipeline(
            transformer=transformer,
            transformer_2=expert(),
            vae=vae,
            scheduler=FlowMatchEulerDiscreteScheduler(shift=7.0),
            text_encoder=text_encoder,
            tokenizer=ByT5Tokenizer(),
            image_encoder=None,
            image_processor=None,
            boundary_ratio=0.875,
        ).save_pretrained(folder)
        return
    pipe = WanPipeline(
        transformer=transformer,
        vae=vae,
        scheduler=FlowMatchEulerDiscreteScheduler(shift=7.0),
        text_encoder=text_encoder,
        tokenizer=ByT5Tokenizer(),
        transformer_2=None,
        expand_timesteps=expand_timesteps,
    )
    pipe.save_pretrained(folder)


def build_svd(folder: Path) -> None:
    """Saves a tiny random StableVideoDiffusionPipeline in ``folder`` (the component sizes of
    diffusers' tests/pipelines/stable_video_diffusion get_dummy_components)."""
    import torch
    from diffusers import (
        AutoencoderKLTemporalDecoder,
        EulerDiscreteScheduler,
        StableVideoDiffusionPipeline,
        UNetSpatioTemporalConditionModel,
    )
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModelWithProjection

    torch.manual_seed(0)
    unet = UNetSpatioTemporalConditionModel(
        block_out_channels=(32, 64),
        layers_per_block=2,
        sample_size=32,
        in_channels=8,
        out_channels=4,
        down_block_types=("CrossAttnDownBlockSpatioTemporal", "DownBlockSpatioTemporal"),
        up_block_types=("UpBlockSpatioTemporal", "CrossAttnUpBlockSpatioTemporal"),
        cross_attention_dim=32,
        num_attention_heads=8,
        projection_class_embeddings_input_dim=96,
        addition_time_embed_dim=32,
    )
    scheduler = EulerDiscreteScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        interpolation_type="linear",
        num_train_timesteps=1000,
        prediction_type="v_prediction",
        sigma_max=700.0,
        sigma_min=0.002,
        steps_offset=1,
        timestep_spacing="leading",
        timestep_type="continuous",
        use_karras_sigmas=True,
    )
    vae = AutoencoderKLTemporalDecoder(
        block_out_channels=[32, 64],
        in_channels=3,
        out_channels=3,
        down_block_types=["DownEncoderBlock2D", "DownEncoderBlock2D"],
        latent_channels=4,
    )
    encoder = CLIPVisionModelWithProjection(
        CLIPVisionConfig(
            hidden_size=32,
            projection_dim=32,
            num_hidden_layers=5,
            num_attention_heads=4,
            # The pipeline resizes the image to 224 for its encoder (CLIP's size).
            image_size=224,
            intermediate_size=37,
            patch_size=14,
        )
    ).eval()
    StableVideoDiffusionPipeline(
        vae=vae,
        image_encoder=encoder,
        unet=unet,
        scheduler=scheduler,
        feature_extractor=CLIPImageProcessor(crop_size=32, size=32),
    ).save_pretrained(folder)


def _t5(config_class: type, model_class: type) -> object:
    """A 2-layer, 32-wide encoder over ByT5's 384 byte tokens."""
    config = config_class(
        vocab_size=384,
        d_model=32,
        d_ff=37,
        d_kv=8,
        num_layers=2,
        num_heads=4,
        relative_attention_num_buckets=8,
    )
    return model_class(config).eval()


def write_catalogue(root: Path) -> Path:
    """Builds both pipelines under ``root`` and writes a catalogue naming them; returns it."""
    ltx, wan = root / "ltx", root / "wan"
    build_ltx(ltx)
    build_ltx_upsampler(ltx, root / "ltx-upsampler")
    build_wan(wan)
    build_wan(root / "wan-ti2v", expand_timesteps=True)
    build_wan(root / "wan-a14b", two_experts=True)
    build_svd(root / "svd")
    build_ltx2(root / "ltx2")
    common = 'dtype = "float32"\nmemory = "none"\nsteps = 2\nmax_seconds = 20\n'
    text = f"""
[[model]]
id = "{TINY_LTX}"
family = "ltx"
source = "{ltx}"
{common}guidance = 3.0
width = 32
height = 32
fps = 8
max_frames = 17
overlap = 2
call = {{ max_sequence_length = 16 }}

[[model]]
id = "{TINY_LTX_UP}"
family = "ltx"
source = "{ltx}"
upsampler = "{root / "ltx-upsampler"}"
refine = {{ denoise_strength = 0.5, num_inference_steps = 2 }}
{common}guidance = 3.0
width = 32
height = 32
fps = 8
max_frames = 17
overlap = 2
call = {{ max_sequence_length = 16 }}

[[model]]
id = "{TINY_LTX_DISTILLED}"
family = "ltx"
source = "{ltx}"
pipeline = "LTXConditionPipeline"
image_pipeline = "LTXConditionPipeline"
dtype = "float32"
memory = "none"
steps = 3
max_seconds = 20
guidance = 1.0
width = 32
height = 32
fps = 8
max_frames = 17
overlap = 2
call = {{ max_sequence_length = 16, timesteps = [1000, 909, 0.03] }}

[[model]]
id = "{TINY_LTX2}"
family = "ltx2"
source = "{root / "ltx2"}"
{common}guidance = 1.0
width = 32
height = 32
fps = 8
max_frames = 17
overlap = 2
audio = true
call = {{ max_sequence_length = 16 }}

[[model]]
id = "{TINY_WAN_A14B}"
family = "wan"
source = "{root / "wan-a14b"}"
pipeline = "WanImageToVideoPipeline"
image_only = true
load = {{ boundary_ratio = 0.5 }}
{common}guidance = 4.0
width = 16
height = 16
fps = 8
max_frames = 9
overlap = 1
call = {{ max_sequence_length = 16, guidance_scale_2 = 3.0 }}

[[model]]
id = "{TINY_SVD}"
family = "svd"
source = "{root / "svd"}"
{common}guidance = 3.0
width = 32
height = 32
fps = 8
max_frames = 9
overlap = 1
call = {{ min_guidance_scale = 1.0, max_guidance_scale = 3.0, decode_chunk_size = 4 }}

[[model]]
id = "{TINY_WAN}"
family = "wan"
source = "{wan}"
{common}guidance = 5.0
width = 16
height = 16
fps = 8
max_frames = 9
overlap = 1
call = {{ max_sequence_length = 16 }}

[[model]]
id = "{TINY_WAN_SLOW}"
family = "wan"
source = "{wan}"
{common}guidance = 5.0
width = 16
height = 16
fps = 4
max_frames = 9
overlap = 1
call = {{ max_sequence_length = 16 }}

[[model]]
id = "{TINY_WAN_TI2V}"
family = "wan"
source = "{root / "wan-ti2v"}"
image_pipeline = "WanImageToVideoPipeline"
{common}guidance = 5.0
width = 16
height = 16
fps = 8
max_frames = 9
overlap = 1
call = {{ max_sequence_length = 16 }}
"""
    path = root / "catalogue.toml"
    path.write_text(text)
    return path
