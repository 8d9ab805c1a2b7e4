"""Model-level blocks shared by several models (not re-exported).

Mixins and helpers that build or read a model's own attributes: the
Self-MM features of Self-MI and MCER (`self_mm_features`), the text /
audio / vision encoding of the BERT-text models (`modality_encoding`)
and constructor argument checks (`argument_checks`). MMIM's
mutual-information stage, shared by MMIM and MCER, lives with MMIM's
training code (`msakeras.models.mmim.mmim_mutual_information`).
"""
