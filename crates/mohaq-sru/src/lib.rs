//! The SRU acoustic model and its speech front end.
//!
//! Front end: corpus readers, Kaldi-style filterbank features, frame targets, decoding and PER.
//! Model: SRU layers, training with candle, quantized inference.
