"""Install echoseg: ``pip install -e .`` (tools/setup_env.sh does it with the pinned stack)."""
import os.path as osp

from setuptools import find_packages, setup


def read_version():
    ns = {}
    with open(osp.join(osp.dirname(__file__), 'echoseg', 'version.py')) as f:
        exec(f.read(), ns)
    return ns['__version__']


setup(
    name='echoseg',
    version=read_version(),
    description='Semi-supervised left-ventricle segmentation of echocardiography videos '
    'on MMEngine / mmsegmentation',
    long_description=open('README.md').read() if osp.exists('README.md') else '',
    long_description_content_type='text/markdown',
    packages=find_packages(exclude=('tests', 'tests.*', 'configs', 'tools')),
    python_requires='>=3.9',
    install_requires=[
        'torch>=2.0',
        'mmengine==0.10.7',
        'mmcv==2.1.0',
        'mmsegmentation==1.2.2',
        'mmdet==3.3.0',  # NCM-Net's MSDeformAttnPixelDecoder
        'numpy>=1.24',
        'opencv-python-headless>=4.8',
        'scipy>=1.11',
        'SimpleITK>=2.3',
        'matplotlib>=3.7',
    ],
    extras_require={
        'web': ['fastapi>=0.110', 'uvicorn>=0.29'],
        'tests': ['pytest>=7', 'selenium>=4.11'],
        # tools/analysis/check_against_reference.py (the authors' files import einops)
        'reference': ['einops>=0.6'],
    },
    entry_points={
        'console_scripts': [
            'echoseg-train=echoseg.cli.train:main',
            'echoseg-test=echoseg.cli.test:main',
            'echoseg-infer=echoseg.cli.infer:main',
            'echoseg-serve=echoseg.cli.serve:main',
        ],
    },
    package_data={'echoseg.web': ['static/*']},
    include_package_data=True,
    zip_safe=False,
)
