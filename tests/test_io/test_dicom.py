"""DICOM cine input: a multi-frame ultrasound DICOM written here, read back frame by frame."""
import numpy as np
import pytest

from echoseg.io import EchoDataError, iter_frames, read_video, read_volume, video_header
from echoseg.testing import write_dicom_cine as write_cine

pydicom = pytest.importorskip('pydicom', reason='pydicom is not installed (tools/setup_env.sh '
                              'installs it)')


@pytest.fixture
def frames():
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, size=(7, 24, 32), dtype=np.uint8)


def test_round_trip_frames_spacing_and_fps(tmp_path, frames):
    path = write_cine(tmp_path / 'cine.dcm', frames)
    got, spacing = read_volume(path)
    np.testing.assert_array_equal(got, frames)
    # ultrasound regions' physical deltas are in cm: 0.03 cm rows, 0.045 cm columns
    assert spacing == pytest.approx((0.3, 0.45))
    info, header_spacing = video_header(path)
    assert info.num_frames == 7 and info.size == (24, 32)
    assert info.fps == pytest.approx(50.0)  # 20 ms per frame
    assert header_spacing == pytest.approx((0.3, 0.45))


def test_stream_equals_whole_read_and_suffixless_file(tmp_path, frames):
    path = write_cine(tmp_path / 'IMG0001', frames)  # exports often have no suffix
    streamed = list(iter_frames(path))
    assert len(streamed) == 7
    for a, b in zip(streamed, read_video(path)):
        np.testing.assert_array_equal(a, b)


def test_pixel_spacing_wins_and_monochrome1_is_inverted(tmp_path, frames):
    path = write_cine(tmp_path / 'm1.dcm', frames, pixel_spacing=(0.2, 0.25),
                      photometric='MONOCHROME1')
    got, spacing = read_volume(path)
    np.testing.assert_array_equal(got, 255 - frames)
    assert spacing == pytest.approx((0.2, 0.25))


def test_no_spacing_tags_gives_none(tmp_path, frames):
    path = write_cine(tmp_path / 'plain.dcm', frames, regions=False)
    assert read_volume(path)[1] is None


def test_rle_compressed_cine_is_decoded(tmp_path, frames):
    from pydicom.uid import RLELossless
    path = write_cine(tmp_path / 'rle.dcm', frames, syntax=RLELossless)
    assert pydicom.dcmread(path).file_meta.TransferSyntaxUID == RLELossless
    np.testing.assert_array_equal(np.stack(list(iter_frames(path))), frames)


def test_undecodable_syntax_and_corrupt_file_name_the_file(tmp_path, frames):
    from pydicom.encaps import encapsulate
    from pydicom.uid import JPEG2000Lossless
    path = write_cine(tmp_path / 'j2k.dcm', frames)
    ds = pydicom.dcmread(path)
    ds.file_meta.TransferSyntaxUID = JPEG2000Lossless
    ds.PixelData = encapsulate([b'\x00' * 16] * len(frames))  # not a JPEG 2000 stream
    ds['PixelData'].VR = 'OB'
    ds.save_as(path, enforce_file_format=True)
    with pytest.raises(EchoDataError, match=r'j2k\.dcm.*(DICOM|decode)'):
        list(iter_frames(path))
    bad = tmp_path / 'bad.dcm'
    bad.write_bytes(b'not a dicom file at all')
    with pytest.raises(EchoDataError, match='bad.dcm'):
        read_video(bad)
