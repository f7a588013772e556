"""Model factories written in the style of well-known libraries (torchvision, timm, transformers), in plain torch.

They know nothing of symnas: tests make them searchable with rules only (``sn.patch``). All are tiny so that
hundreds of candidates build and train a step in seconds.
"""
