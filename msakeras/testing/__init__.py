"""Test helpers shared by msakeras's own tests and by user extensions."""

from msakeras.testing.test_case import TestCase
from msakeras.testing.tiny_models import tiny_model
from msakeras.testing.tiny_text_encoder import tiny_text_encoder
