"""Train an echoseg model: python tools/train.py CONFIG [--work-dir D] [--resume [CKPT]]
[--amp] [--cfg-options k=v ...] [--launcher pytorch] (echoseg.cli.train)."""
from echoseg.cli.train import main

if __name__ == '__main__':
    main()
