"""Keras builders of SSD and SSDLite detectors on MobileNet v1 / v2 backbones, in the TF OD API's layout.

May import: the rest of ``ssd``; Keras.
"""
