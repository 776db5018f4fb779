// SPDX-License-Identifier: GPL-3.0-or-later
// FFTW wisdom for the shipped presets' FFT lengths, measured once and imported before every plan.

/// FFTW's measured plans for real transforms of 512, 1408, 1536, 3072 and 6144 points (both directions,
/// out of place, on `fftwf_malloc`ed buffers, as `RealFFT` makes them): the lengths of every shipped
/// preset. Made with Debian 12's FFTW 3.3.10 by
///
///     fftwf-wisdom -m -o - rof512 rob512 rof1408 rob1408 rof1536 rob1536     # on an AMD EPYC (Zen 5)
///     fftwf-wisdom -m -o - rof3072 rob3072 rof6144 rob6144                   # on an Intel Xeon, for speech-96k and -192k
///
/// (package libfftw3-bin), the second's entries added to the first's block (both name the same
/// FFTW build). `RealFFT` imports it before its first plan and still plans with
/// `FFTW_ESTIMATE`: FFTW then takes a length's plan from this wisdom where it applies (the same
/// FFTW build, a CPU with AVX) and estimates it otherwise. Either way the plan depends only on the
/// wisdom, the FFTW build and the CPU, never on timings taken at start, so every engine on one
/// machine (the daemon, `process`, a test) computes bit-identical spectra. On this machine the
/// measured plans take a forward and inverse pair from 2.1 to 1.7 µs at 1536 points, 2.9 to 2.6 µs
/// at 1408 and 0.49 to 0.47 µs at 512 (docs/PERFORMANCE.md, "FFTW plans from shipped wisdom").
/// The lengths `fftwWisdom` was made for (the command above names each, both directions).
let fftwWisdomLengths = [512, 1408, 1536, 3072, 6144]

let fftwWisdom = """
(fftw-3.3.10 fftwf_wisdom #x9e7d4dee #xdb14fed1 #x34bf76a4 #xeb6e8fdf
  (fftwf_codelet_hc2cfdftv_2_sse2 0 #x11bdd #x11bdd #x0 #x7766402a #x780bd252 #xd8398a48 #x36d50a98)
  (fftwf_dft_r2hc_register 0 #x11bdd #x11bdd #x0 #x5d53e2ab #x37774f22 #x79c5d617 #xf099cf52)
  (fftwf_rdft_rank0_register 0 #x11bdd #x11bdd #x0 #x758a3478 #x2fd41d89 #xfe821957 #x6254a490)
  (fftwf_rdft2_buffered_register 0 #x11bdd #x11bdd #x0 #xe65569b2 #x3cb4b49e #xfe9b47fd #xa803e16a)
  (fftwf_codelet_hc2cbdftv_2_sse2 0 #x10bdd #x10bdd #x0 #xe34ff8c8 #xe84377ec #x9549329e #x4f4160df)
  (fftwf_codelet_r2cb_2 2 #x10bdd #x10bdd #x0 #x54e7cce0 #x2bc039d6 #x9d7a08c5 #x154b29ce)
  (fftwf_rdft2_nop_register 0 #x11bdd #x11bdd #x0 #x5c813728 #xc9490faf #x862f604b #xc7b5fffa)
  (fftwf_codelet_t2bv_32_avx 0 #x10bdd #x10bdd #x0 #xb070d958 #x23f0478f #x95da449c #x52df1d59)
  (fftwf_codelet_n2fv_64_avx 0 #x11bdd #x11bdd #x0 #xfdb9ed8b #x1b0460d3 #x27e207b5 #x0e91669d)
  (fftwf_codelet_r2cf_2 2 #x11bdd #x11bdd #x0 #xeb24eaab #x2ca3ab09 #x7a6d7f81 #xcc67c730)
  (fftwf_codelet_r2cb_2 2 #x10bdd #x10bdd #x0 #xceb129a6 #x8ffa2ca4 #xd1160c04 #xb0c811a0)
  (fftwf_codelet_r2cf_2 2 #x11bdd #x11bdd #x0 #x7d05f12d #xd12e7b46 #xe245c1aa #xbe425c1e)
  (fftwf_rdft2_nop_register 0 #x11bdd #x11bdd #x0 #x3213112c #x8e8e1ac3 #x8da9ab27 #xd24e3005)
  (fftwf_codelet_r2cbIII_2 2 #x10bdd #x10bdd #x0 #xf7e0615b #xe198de90 #x31dac641 #x76ae098b)
  (fftwf_codelet_r2cfII_2 2 #x11bdd #x11bdd #x0 #xe8656435 #xab2c46b3 #xeab51089 #xb51cc9f3)
  (fftwf_codelet_r2cfII_2 2 #x11bdd #x11bdd #x0 #x924edee9 #x1c8ac4be #x6ab55cce #x0a294a09)
  (fftwf_codelet_hc2cbdftv_2_sse2 0 #x10bdd #x10bdd #x0 #xe65569b2 #x3cb4b49e #xfe9b47fd #xa803e16a)
  (fftwf_codelet_t1buv_8_sse2 0 #x10bdd #x10bdd #x0 #x335ebeec #x87a31718 #x8e3a7317 #x400080bc)
  (fftwf_codelet_hc2cfdftv_2_sse2 0 #x11bdd #x11bdd #x0 #x15f6ec12 #xac086d79 #x73a54936 #x1e2b0280)
  (fftwf_dft_r2hc_register 0 #x11bdd #x11bdd #x0 #xe510c477 #x819693ca #xa31a0096 #x01002a98)
  (fftwf_codelet_t1fv_8_avx 0 #x11bdd #x11bdd #x0 #xca9a70f1 #xee427a8b #xbb92c3cd #x6b0a164f)
  (fftwf_dft_vrank_geq1_register 0 #x11bdd #x11bdd #x0 #xb0895467 #xe2e14343 #x366c547d #xb38f26b9)
  (fftwf_codelet_r2cfII_2 2 #x11bdd #x11bdd #x0 #x6a82cb43 #x3a90b9e4 #x3a849820 #xe9f54dea)
  (fftwf_codelet_n1bv_11_avx 0 #x10bdd #x10bdd #x0 #x1b8b1674 #x048992c4 #x2a365ca9 #x7c815a86)
  (fftwf_rdft2_buffered_register 0 #x11bdd #x11bdd #x0 #xe34ff8c8 #xe84377ec #x9549329e #x4f4160df)
  (fftwf_dft_r2hc_register 0 #x11bdd #x11bdd #x0 #xe36578a9 #xedbe4a93 #x6c045927 #xf0ec0c2c)
  (fftwf_codelet_r2cbIII_2 2 #x10bdd #x10bdd #x0 #x34ffa9ff #x03065d47 #xfbc5ab3e #x389b6ef9)
  (fftwf_codelet_t2bv_8_avx 0 #x10bdd #x10bdd #x0 #xcf9a91f2 #x92092097 #x2552f4c0 #x510777a4)
  (fftwf_rdft2_nop_register 0 #x11bdd #x11bdd #x0 #xc8ed586c #xb8cadde1 #xf6a577f6 #x0717e72a)
  (fftwf_codelet_r2cb_2 2 #x10bdd #x10bdd #x0 #xec682ffe #x3b9bb73d #xa4c17fae #x79e2ceaf)
  (fftwf_dft_vrank_geq1_register 0 #x10bdd #x10bdd #x0 #xe13be0e6 #x33f1c9f9 #x5865f392 #xd1a69574)
  (fftwf_codelet_hc2cfdftv_2_sse2 0 #x11bdd #x11bdd #x0 #x85773c49 #x9a968ccc #xbd37e819 #xac77e6a4)
  (fftwf_codelet_n2fv_64_avx 0 #x11bdd #x11bdd #x0 #x03406dff #xc8fa0a2c #x62a9a61e #xa394d874)
  (fftwf_codelet_t1fv_12_avx 0 #x11bdd #x11bdd #x0 #x3cc9797d #x91d96cce #x23d08481 #x0d4d65b2)
  (fftwf_codelet_t2bv_64_avx 0 #x10bdd #x10bdd #x0 #x8e69159f #xdbba7098 #xa44079db #x55214eca)
  (fftwf_codelet_n2bv_8_avx 0 #x10bdd #x10bdd #x0 #x017d7382 #xbd6f3d64 #x1cc0b76d #x12cff5e6)
  (fftwf_codelet_r2cbIII_2 2 #x10bdd #x10bdd #x0 #x29169b53 #xd2788d74 #x43c3e3ad #x9cbb1c9e)
  (fftwf_codelet_n2bv_12_avx 0 #x10bdd #x10bdd #x0 #xb3f3e01d #x274c1b2e #xec22e7dd #x3833d655)
  (fftwf_codelet_t2fv_4_avx 0 #x11bdd #x11bdd #x0 #x2c50659a #x343a7df7 #xd727540d #xacfea1f9)
  (fftwf_codelet_t1fuv_8_sse2 0 #x11bdd #x11bdd #x0 #x93a5ea7d #x89450ca5 #x0b3876ec #x4e7d31c4)
  (fftwf_rdft2_buffered_register 0 #x11bdd #x11bdd #x0 #xebe1d760 #x5642e1ca #x8a6f8526 #x59f9cc93)
  (fftwf_rdft_rank0_register 0 #x11bdd #x11bdd #x0 #xbf85e8a8 #x863a97c1 #x99d70713 #xce27ea51)
  (fftwf_codelet_r2cf_2 2 #x11bdd #x11bdd #x0 #x3a988746 #x30c0b256 #x147461e6 #x3ce75f35)
  (fftwf_codelet_n1fv_11_avx 0 #x11bdd #x11bdd #x0 #xcd975fb3 #x9c5c9425 #x061ab7d7 #x433591e9)
  (fftwf_rdft_rank0_register 0 #x11bdd #x11bdd #x0 #x5872658f #x3e1df62f #x51b93d7c #x2f8c97e0)
  (fftwf_codelet_hc2cbdftv_2_sse2 0 #x10bdd #x10bdd #x0 #xebe1d760 #x5642e1ca #x8a6f8526 #x59f9cc93)
  (fftwf_codelet_r2cf_6 2 #x11bdd #x11bdd #x0 #x832bb70c #x7a74ccf4 #xe21da28d #xd95e303b)
  (fftwf_codelet_t2fv_8_avx 0 #x11bdd #x11bdd #x0 #x90ee7c79 #x71821173 #x8817a6e1 #x00d8c6f6)
  (fftwf_codelet_n1bv_12_avx 0 #x10bdd #x10bdd #x0 #x5159ee49 #xd07227f1 #x346b42a2 #xcccf2b65)
  (fftwf_dft_vrank_geq1_register 0 #x10bdd #x10bdd #x0 #x896a206e #x5a1c03d9 #x37a0fe21 #xa6e5a998)
  (fftwf_codelet_t2bv_32_avx 0 #x10bdd #x10bdd #x0 #x63295554 #xde8764fc #x045a4201 #x1a870e7c)
  (fftwf_codelet_r2cbIII_2 2 #x10bdd #x10bdd #x0 #x1a829243 #xa1f9b48a #x422bede5 #x3b01b96f)
  (fftwf_rdft2_nop_register 0 #x11bdd #x11bdd #x0 #xd8736c7e #x19a8ba9a #xeabc6cfb #x188939c2)
  (fftwf_codelet_hc2cbdft_2 0 #x10bdd #x10bdd #x0 #xf28b600b #x2c59122c #x2a236e3c #xab1b2d9f)
  (fftwf_codelet_n1fv_64_avx 0 #x11bdd #x11bdd #x0 #xab6456f0 #x369a9e5d #xad7463bd #xc6bf2cef)
  (fftwf_dft_vrank_geq1_register 0 #x11bdd #x11bdd #x0 #x8b6b1790 #xc26cc7a2 #x349fe407 #x1525b1db)
  (fftwf_codelet_hc2cfdftv_6_sse2 0 #x11bdd #x11bdd #x0 #x54819c61 #xf37fbdf5 #x77ca865d #xaad3dc59)
  (fftwf_codelet_r2cfII_6 2 #x11bdd #x11bdd #x0 #x05e1ed14 #xc30c7f8a #xcde0b990 #xc2de643d)
  (fftwf_codelet_r2cb_2 2 #x10bdd #x10bdd #x0 #xb4c91359 #x23f5f156 #xebbeccff #x42b3df7a)
  (fftwf_dft_r2hc_register 0 #x11bdd #x11bdd #x0 #x8a12eba3 #x2078b602 #x7a333453 #xc5ebd317)
  (fftwf_rdft2_buffered_register 0 #x11bdd #x11bdd #x0 #xf28b600b #x2c59122c #x2a236e3c #xab1b2d9f)
  (fftwf_rdft_rank0_register 0 #x11bdd #x11bdd #x0 #xf7d6344f #x9d929567 #x08a543cf #x02d38ae8)
  (fftwf_codelet_t2bv_4_avx 0 #x10bdd #x10bdd #x0 #x93900f75 #xc743c003 #x9ab5abf5 #x6552184a)
  (fftwf_rdft_rank0_register 0 #x11bdd #x11bdd #x0 #x41aa6e2a #xfc75e39f #x5493469f #xce6f2c17)
  (fftwf_codelet_r2cfII_8 2 #x11bdd #x11bdd #x0 #x4ae873c3 #x4bba76ec #x73c9ce7c #x847ed535)
  (fftwf_codelet_r2cf_8 2 #x11bdd #x11bdd #x0 #xc01daaf7 #xfa81a748 #x22ea5540 #x3823dc14)
  (fftwf_dft_r2hc_register 0 #x11bdd #x11bdd #x0 #x44825a50 #xe245e613 #x6547463f #xe4fccb33)
  (fftwf_codelet_hc2cfdftv_8_sse2 0 #x11bdd #x11bdd #x0 #x108bcd7c #xb8fd7eb9 #xc1417cb0 #xc6df9b86)
  (fftwf_codelet_n1bv_12_avx 0 #x10bdd #x10bdd #x0 #xe9ceb3f1 #xb60ede33 #xbc2bcdd0 #x900e472d)
  (fftwf_rdft2_buffered_register 0 #x11bdd #x11bdd #x0 #x30b47bd6 #x67212a1a #x40e2b162 #x76ae7bd9)
  (fftwf_rdft2_nop_register 0 #x11bdd #x11bdd #x0 #x65953d3e #x8f3b4bde #xf4ff8e36 #xbdd74d76)
  (fftwf_dft_vrank_geq1_register 0 #x10bdd #x10bdd #x0 #x7eab3c5a #x09ba1135 #xce0750ad #x237fb4d2)
  (fftwf_codelet_t2bv_16_avx 0 #x10bdd #x10bdd #x0 #x2c96b720 #xc52718fb #x1fd4711d #x9d28b017)
  (fftwf_codelet_t2bv_16_avx 0 #x10bdd #x10bdd #x0 #xc47e42b0 #xa8ab65a3 #x145ae5f2 #x67aabf1e)
  (fftwf_dft_vrank_geq1_register 0 #x11bdd #x11bdd #x0 #x4f416cd6 #xc4b5fb48 #xfec58f3d #xc8d7dbc4)
  (fftwf_codelet_r2cbIII_2 2 #x10bdd #x10bdd #x0 #x3ee46fa4 #x98c9c49a #xfc9a0296 #x7fa90a1d)
  (fftwf_codelet_t2fv_64_avx 0 #x11bdd #x11bdd #x0 #xa5ede20f #x12999d5a #x58175b85 #xec10a215)
  (fftwf_codelet_r2cb_2 2 #x10bdd #x10bdd #x0 #x8c8b43c0 #x90962212 #x59967b53 #x7947dc27)
  (fftwf_codelet_n1fv_12_avx 0 #x11bdd #x11bdd #x0 #x8285d0d2 #x6867ab52 #xd73be177 #x0dbf136a)
  (fftwf_codelet_hc2cbdftv_2_sse2 0 #x10bdd #x10bdd #x0 #x30b47bd6 #x67212a1a #x40e2b162 #x76ae7bd9)
)
"""
