"""Train an echoseg model: python tools/train.py CONFIG [--work-dir D] [--resume [CKPT]]
[--amp] [--cfg-options k=v ...] [--launcher pytorch]."""
from echoseg.cli import train_main

if __name__ == '__main__':
    train_main()
