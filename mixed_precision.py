"""The --mixed_precision option group: float32, bfloat16 or float16 arithmetic.

The sessions of each precision, what a precision does on this machine and the float32
fallback of the networks measured slower in bfloat16 are in `common.session`.
"""

import dataclasses

from common.session import FLOAT32, PRECISIONS
from flag_options import option
from option_groups import OptionGroup


@dataclasses.dataclass
class PrecisionOptions(OptionGroup):
    mixed_precision: str = option(
        FLOAT32, 'The arithmetic of the network: "float32" (default), "bfloat16" (fast on CPUs '
        'with AVX512-BF16 or AMX, and on recent GPUs; the networks measured slower in bfloat16, '
        'such as MobileNet V2, compute in float32 and say so at start) or "float16" (GPUs; '
        'with dynamic loss scaling in training). Variables and checkpoints stay float32.',
        choices=PRECISIONS)
