"""echoseg.io's read and write functions on files written in each real format."""
import glob
import os
import os.path as osp

import cv2
import numpy as np
import pytest
import SimpleITK as sitk

from echoseg.io import (EchoDataError, read_mask, read_video, read_volume, read_volume_header,
                        video_info, write_video)


def _frames(n=6, h=24, w=32):
    """Smooth frames (MJPG keeps them nearly exact), each with its own brightness."""
    yy, xx = np.mgrid[0:h, 0:w]
    base = (xx * 3 + yy * 2).astype(np.float64)
    return np.stack([np.clip(base + 20 * i, 0, 255) for i in range(n)]).astype(np.uint8)


def _write_avi_cv2(path, frames_bgr, fps=30.0):
    h, w = frames_bgr.shape[1:3]
    vw = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'MJPG'), fps, (w, h), True)
    assert vw.isOpened()
    for f in frames_bgr:
        vw.write(f)
    vw.release()
    return str(path)


def _write_sitk(path, arr, spacing_xy=None):
    img = sitk.GetImageFromArray(arr, isVector=False)
    if spacing_xy is not None:
        img.SetSpacing(tuple(spacing_xy) + (1.0,) * (img.GetDimension() - 2))
    sitk.WriteImage(img, str(path))
    return str(path)


def test_read_avi_gray_and_colour(tmp_path):
    gray = _frames()
    path = _write_avi_cv2(tmp_path / 'g.avi', np.repeat(gray[..., None], 3, axis=3))
    video = read_video(path)
    assert video.dtype == np.uint8 and video.shape == gray.shape
    assert np.abs(video.astype(int) - gray).mean() < 3

    # colour: B, G, R planes differ; gray must follow the luma weights, not one channel
    bgr = np.stack([gray // 4, gray // 2, gray], axis=3).astype(np.uint8)
    path = _write_avi_cv2(tmp_path / 'c.avi', bgr)
    video = read_video(path)
    luma = 0.114 * bgr[..., 0] + 0.587 * bgr[..., 1] + 0.299 * bgr[..., 2]
    assert np.abs(video.astype(float) - luma).mean() < 4
    assert np.abs(video.astype(float) - bgr[..., 2]).mean() > 10

    info = video_info(path)
    assert info.num_frames == len(gray) and info.size == gray.shape[1:]
    assert info.fps == pytest.approx(30.0)


@pytest.mark.parametrize('suffix', ['.mp4', '.avi'])
def test_write_video_roundtrip(tmp_path, suffix):
    frames = _frames(n=5, h=32, w=48)
    path = write_video(tmp_path / f'out{suffix}', frames, fps=12)
    info = video_info(path)
    assert info.num_frames == 5 and info.size == (32, 48) and info.fps == pytest.approx(12)
    back = read_video(path)
    assert back.shape == frames.shape
    assert np.abs(back.astype(int) - frames).mean() < 6


def test_write_video_nifti_with_spacing(tmp_path):
    frames = _frames(n=3, h=10, w=14)
    path = write_video(tmp_path / 'v.nii.gz', frames, spacing=(0.3, 0.2))
    arr, spacing = read_volume(path)
    np.testing.assert_array_equal(arr, frames)
    assert spacing == pytest.approx((0.3, 0.2))


@pytest.mark.parametrize('suffix', ['.nii.gz', '.nii', '.mhd'])
def test_read_volume_axes_and_spacing(tmp_path, suffix):
    frames = _frames(n=4, h=18, w=26)   # H != W: a transposition would show
    path = _write_sitk(tmp_path / f'seq{suffix}', frames, spacing_xy=(0.25, 0.4))
    # SimpleITK's header size is (cols, rows, frames)
    assert sitk.ReadImage(path).GetSize() == (26, 18, 4)
    arr, spacing = read_volume(path)
    np.testing.assert_array_equal(arr, frames)
    assert spacing == pytest.approx((0.4, 0.25))          # (row_mm, col_mm)
    np.testing.assert_array_equal(read_video(path), frames)
    info, hdr_spacing = read_volume_header(path)
    assert (info.num_frames, info.size) == (4, (18, 26)) and hdr_spacing == spacing


def test_read_volume_2d_and_4d_and_float(tmp_path):
    frames = _frames(n=3, h=12, w=16)
    arr, _ = read_volume(_write_sitk(tmp_path / 'one.nii.gz', frames[1], (0.3, 0.3)))
    assert arr.shape == (1, 12, 16)
    np.testing.assert_array_equal(arr[0], frames[1])
    # (t, z=1, y, x) as some tools store 2-D+t
    arr, _ = read_volume(_write_sitk(tmp_path / 'four.nii.gz', frames[:, None]))
    np.testing.assert_array_equal(arr, frames)
    assert video_info(tmp_path / 'four.nii.gz').num_frames == 3
    # float images: 0..255 kept, 0..1 scaled
    arr, _ = read_volume(_write_sitk(tmp_path / 'f255.nii.gz', frames.astype(np.float32)))
    np.testing.assert_array_equal(arr, frames)
    unit = frames.astype(np.float32) / 255.0
    arr, _ = read_volume(_write_sitk(tmp_path / 'f1.nii.gz', unit))
    assert np.abs(arr.astype(int) - frames).max() <= 1


def test_read_mask_forms(tmp_path):
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 4, size=(3, 10, 14)).astype(np.uint8)
    vol = read_mask(_write_sitk(tmp_path / 'gt.nii.gz', labels))
    assert vol.shape == (3, 10, 14) and vol.dtype == np.uint8
    np.testing.assert_array_equal(vol, labels)
    one = read_mask(_write_sitk(tmp_path / 'ed_gt.mhd', labels[0]))
    assert one.shape == (10, 14)
    np.testing.assert_array_equal(one, labels[0])
    # float labels that are integers are fine (CAMUS gt volumes are sometimes float)
    np.testing.assert_array_equal(
        read_mask(_write_sitk(tmp_path / 'gtf.nii.gz', labels.astype(np.float32))), labels)
    cv2.imwrite(str(tmp_path / 'm.png'), labels[1])
    np.testing.assert_array_equal(read_mask(tmp_path / 'm.png'), labels[1])


def test_errors_name_the_file(tmp_path):
    missing = tmp_path / 'nope.avi'
    with pytest.raises(EchoDataError, match='nope.avi.*not found'):
        read_video(missing)
    with pytest.raises(EchoDataError, match='not found'):
        read_mask(tmp_path / 'nope.nii.gz')

    corrupt = tmp_path / 'broken.avi'
    corrupt.write_bytes(np.random.default_rng(1).integers(0, 256, 4000, np.uint8).tobytes())
    with pytest.raises(EchoDataError, match='broken.avi'):
        read_video(corrupt)
    with pytest.raises(EchoDataError, match='broken.avi'):
        video_info(corrupt)

    bad_nii = tmp_path / 'broken.nii.gz'
    bad_nii.write_bytes(b'\x1f\x8b' + b'not a nifti' * 50)
    with pytest.raises(EchoDataError, match='broken.nii.gz.*unreadable'):
        read_volume(bad_nii)

    # a .mhd header without its .raw
    _write_sitk(tmp_path / 'lonely.mhd', _frames(n=2, h=6, w=6))
    raws = glob.glob(str(tmp_path / 'lonely.*raw'))
    assert raws
    for raw in raws:
        os.remove(raw)
    with pytest.raises(EchoDataError, match='lonely.mhd'):
        read_volume(tmp_path / 'lonely.mhd')

    empty = tmp_path / 'empty.avi'
    vw = cv2.VideoWriter(str(empty), cv2.VideoWriter_fourcc(*'MJPG'), 10.0, (16, 16), True)
    vw.release()
    assert osp.getsize(empty) > 0          # a valid AVI header with no frame
    with pytest.raises(EchoDataError, match='empty.avi.*zero'):
        read_video(empty)
    with pytest.raises(EchoDataError, match='empty.avi.*zero'):
        video_info(empty)
    (tmp_path / 'zero.avi').write_bytes(b'')
    with pytest.raises(EchoDataError, match='zero.avi.*empty'):
        read_video(tmp_path / 'zero.avi')

    # wrong dimensionality: a true 4-D volume, and a non-integer mask
    vol4 = np.zeros((2, 3, 8, 8), np.uint8)
    with pytest.raises(EchoDataError, match='four_d.nii.gz.*4-D'):
        read_volume(_write_sitk(tmp_path / 'four_d.nii.gz', vol4))
    with pytest.raises(EchoDataError, match='soft.nii.gz.*non-integer'):
        read_mask(_write_sitk(tmp_path / 'soft.nii.gz', np.full((4, 4), 0.5, np.float32)))
    with pytest.raises(EchoDataError, match='bad.xyz'):
        write_video(tmp_path / 'bad.xyz', _frames(n=1))
    with pytest.raises(EchoDataError, match='shape'):
        write_video(tmp_path / 'x.avi', np.zeros((0, 4, 4), np.uint8))


def test_real_nifti_samples(echodata):
    path = osp.join(echodata, 'camus_sample', 'patient0500_2CH_half_sequence.nii.gz')
    video, spacing = read_volume(path)
    hdr = sitk.ReadImage(path)
    w, h, n = hdr.GetSize()
    assert video.shape == (n, h, w) == (15, 422, 512) and video.dtype == np.uint8
    assert spacing == pytest.approx((0.308, 0.308), abs=1e-4)
    # intensities kept as stored (0..255 floats), not rescaled
    np.testing.assert_array_equal(video, np.rint(sitk.GetArrayFromImage(hdr)).astype(np.uint8))
    # the echo sector's apex is at the top: its first rows are mostly black except the middle
    top = video[0, :20]
    assert top[:, :w // 4].mean() < 1 and top[:, w // 2 - 10:w // 2 + 10].mean() > 5

    seg = read_mask(osp.join(echodata, 'other_real', 'segmentation_reference.nii.gz'))
    assert seg.ndim == 3 and set(np.unique(seg)) <= {0, 1, 2}
    seq, sp = read_volume(osp.join(echodata, 'other_real', 'a4c_sequence.nii.gz'))
    assert seq.shape == (20, 480, 560) and sp == pytest.approx((0.4, 0.4), abs=1e-4)


@pytest.mark.parametrize('suffix', ['.avi', '.mhd', '.nrrd', '.nii', '.nii.gz'])
def test_stream_reader_equals_whole_file_reader_frame_by_frame(tmp_path, suffix):
    from echoseg.io import iter_frames, video_header
    rng = np.random.default_rng(3)
    frames = rng.integers(0, 256, size=(9, 20, 28), dtype=np.uint8)
    path = write_video(tmp_path / f'v{suffix}', frames, spacing=(0.5, 0.25))
    whole = read_video(path)
    count = 0
    for i, frame in enumerate(iter_frames(path)):
        assert frame.dtype == np.uint8 and frame.shape == (20, 28)
        np.testing.assert_array_equal(frame, whole[i])
        count += 1
    assert count == len(whole) == 9
    info, spacing = video_header(path)
    assert info.num_frames == 9 and info.size == (20, 28)
    if suffix != '.avi':
        assert spacing == pytest.approx((0.5, 0.25))


def test_stream_reader_names_a_corrupt_video(tmp_path):
    from echoseg.io import iter_frames
    bad = tmp_path / 'bad.avi'
    bad.write_bytes(b'\x00' * 64)
    with pytest.raises(EchoDataError, match='bad.avi'):
        list(iter_frames(bad))


@pytest.mark.parametrize('suffix', ['.nii.gz', '.nii', '.mhd'])
def test_write_volume_frames_streams_what_simpleitk_writes(tmp_path, suffix):
    """A volume written frame by frame reads back (SimpleITK: array, spacing, origin,
    direction, pixel type) exactly as the one SimpleITK writes from the whole array."""
    import SimpleITK as sitk

    from echoseg.io import write_volume_frames
    masks = np.random.default_rng(1).integers(0, 3, (6, 5, 7)).astype(np.uint8)
    spacing = (0.3, 0.45)
    whole = write_video(tmp_path / f'whole{suffix}', masks, spacing=spacing)
    streamed = write_volume_frames(tmp_path / f'streamed{suffix}', iter(masks), (5, 7), 6,
                                   spacing=spacing)
    a, b = sitk.ReadImage(whole), sitk.ReadImage(streamed)
    np.testing.assert_array_equal(sitk.GetArrayFromImage(b), masks)
    np.testing.assert_array_equal(sitk.GetArrayFromImage(a), sitk.GetArrayFromImage(b))
    assert b.GetSpacing() == pytest.approx(a.GetSpacing())
    assert b.GetOrigin() == pytest.approx(a.GetOrigin())
    assert b.GetDirection() == pytest.approx(a.GetDirection())
    assert b.GetPixelIDValue() == a.GetPixelIDValue()
    np.testing.assert_array_equal(read_mask(streamed), masks)
    if suffix == '.mhd':
        assert (tmp_path / 'streamed.raw').stat().st_size == masks.nbytes


def test_write_volume_frames_refuses_a_wrong_frame_or_count(tmp_path):
    from echoseg.io import write_volume_frames
    frames = np.zeros((3, 4, 4), np.uint8)
    with pytest.raises(EchoDataError, match='3 frames given for a volume of 4'):
        write_volume_frames(tmp_path / 'a.nii.gz', iter(frames), (4, 4), 4)
    with pytest.raises(EchoDataError, match=r'frame 0 is .*expected uint8 \(4, 5\)'):
        write_volume_frames(tmp_path / 'b.mhd', iter(frames), (4, 5), 3)
    with pytest.raises(EchoDataError, match='32767'):
        write_volume_frames(tmp_path / 'c.nii', iter(frames), (4, 4), 40000)
