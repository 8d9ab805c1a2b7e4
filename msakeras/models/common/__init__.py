"""Model-level blocks shared by several models (not re-exported).

Mixins and helpers that build or read a model's own attributes: the
Self-MM features of Self-MI and MCER (`self_mm_features`), MMIM's
mutual-information stage of MMIM and MCER (`mmim_mutual_information`),
the text / audio / vision encoding of the BERT-text models
(`modality_encoding`) and constructor argument checks
(`argument_checks`).
"""
