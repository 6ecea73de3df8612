"""Privacy by design: no clear identifier past the landing step.

* :mod:`~zhongtai.privacy.keys`: where the pseudonym and master keys come from;
* :mod:`~zhongtai.privacy.pseudonyms`: keyed HMAC pseudonyms, the join keys downstream;
* :mod:`~zhongtai.privacy.vault`: clear values kept only encrypted, erasure by
  crypto-shredding, master-key rotation;
* :mod:`~zhongtai.privacy.files`: whole files (quarantine) encrypted at rest.

Import from the modules: this package imports nothing, so that ``keys`` stays light.
"""
