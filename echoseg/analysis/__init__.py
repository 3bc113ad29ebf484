"""Analysis, benchmarks and experiments behind the scripts of ``tools/``.

- :mod:`.cross_validation`: cross-validation on an EchoNet-layout folder (folds, runs,
  summaries, tables); :mod:`.learning_curve` pools several of them into one table;
  :mod:`.readout` measures the clinical read-out on their held-out videos;
  :mod:`.method_table` runs every method through synthetic pretraining, cross-validation,
  complexity and speed under one protocol, resumably, into one table;
  :mod:`.video_ef`: batch EF of whole videos against a FileList;
- :mod:`.complexity`: parameters and multiply-adds (GMACs) of a config's model;
- :mod:`.memory`: the peak-memory probe every benchmark uses; :mod:`.benchmark` (speed,
  memory, multiply-adds of models and of the whole-video API), :mod:`.mssnet_benchmark`,
  :mod:`.ncm_memory`, :mod:`.synthetic_benchmark`;
- :mod:`.ablation` (EchoForge's Table 3 on synthetic clips), :mod:`.synthetic_to_real`,
  :mod:`.synthetic_appearance`: experiments on synthetic data.

Each module that backs a script has a ``main(argv)`` (the script's command line); the
submodules are imported on demand.
"""
