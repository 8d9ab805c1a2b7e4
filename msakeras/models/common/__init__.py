"""Model-level blocks shared by several models (not re-exported).

Helpers that build or read a model's own attributes: the Self-MM features
of Self-MI and MCER (`self_mm_features`), the text / audio / vision
encoding of the BERT-text models (`modality_encoding`), constructor
argument checks (`argument_checks`) and the training procedure of a model
composing MMIM's `BarberAgakovBound` layer, shared by MMIM and MCER
(`barber_agakov_two_stage`). Model folders import this package, never each
other.
"""
