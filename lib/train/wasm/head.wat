;; Dense(3) head trainer kernel: MSE + Keras Adam on mini-batches, f32x4 SIMD.
;; Source of lib/train/wasm/head_wasm.ts (regenerate: npx tsx scripts/build-head-wasm.ts).
;;
;; Memory layout (byte addresses chosen by lib/train/head_simd.ts, all 16-byte aligned):
;;   X      rows x FP f32, rows padded with zeros to FP (a multiple of 12) floats; RB = 4 FP bytes
;;   LAB    rows x 3 f32 labels
;;   W M V  kernel / Adam m / Adam v, interleaved by 4 features: feature f of output o at
;;          base + 48 (f / 4) + 16 o + 4 (f % 4), 3 FP f32 each (padding stays 0), so one pointer
;;          and constant offsets reach all three outputs
;;   BIAS   f32[3] bias; MB, VB: f64[3] Adam state of the bias (as in head.ts)
;;   RP     i32[B] byte address of each batch row; ES v128[B*3] scaled errors as f32 splats;
;;   ED     f64[B*3] scaled errors; DOT f64[4 ceil(B/4) * 3] dot products of the batch rows with W
(module
  (memory (export "mem") 1 65536)
  (global $X (mut i32) (i32.const 0))
  (global $RB (mut i32) (i32.const 0))
  (global $LAB (mut i32) (i32.const 0))
  (global $W (mut i32) (i32.const 0))
  (global $M (mut i32) (i32.const 0))
  (global $V (mut i32) (i32.const 0))
  (global $G (mut i32) (i32.const 0))
  (global $BIAS (mut i32) (i32.const 0))
  (global $MB (mut i32) (i32.const 0))
  (global $VB (mut i32) (i32.const 0))
  (global $RP (mut i32) (i32.const 0))
  (global $ES (mut i32) (i32.const 0))
  (global $ED (mut i32) (i32.const 0))
  (global $DOT (mut i32) (i32.const 0))

  (func (export "setup")
    (param $x i32) (param $rb i32) (param $lab i32) (param $w i32) (param $m i32) (param $v i32) (param $g i32)
    (param $bias i32) (param $mb i32) (param $vb i32) (param $rp i32) (param $es i32) (param $ed i32) (param $dot i32)
    (global.set $X (local.get $x))
    (global.set $RB (local.get $rb))
    (global.set $LAB (local.get $lab))
    (global.set $W (local.get $w))
    (global.set $M (local.get $m))
    (global.set $V (local.get $v))
    (global.set $G (local.get $g))
    (global.set $BIAS (local.get $bias))
    (global.set $MB (local.get $mb))
    (global.set $VB (local.get $vb))
    (global.set $RP (local.get $rp))
    (global.set $ES (local.get $es))
    (global.set $ED (local.get $ed))
    (global.set $DOT (local.get $dot)))

  ;; Dot products of four rows (byte addresses pa..pd) with the 3 kernel columns -> f64 out[0..12)
  ;; (row-major: out[3 r + o]). f32x4 partial sums over blocks of 64 features, folded into f64x2
  ;; sums (lanes 0-1 and 2-3), so the rounding error does not grow with F as a plain f32 sum would.
  ;; Four rows share each kernel load: with two, the loop waits on memory (X streams from DRAM).
  (func $fwd4 (param $pa i32) (param $pb i32) (param $pc i32) (param $pd i32) (param $out i32)
    (local $w i32) (local $end i32) (local $bend i32) (local $x v128) (local $k0 v128) (local $k1 v128) (local $k2 v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $la0 v128) (local $ha0 v128) (local $la1 v128) (local $ha1 v128) (local $la2 v128) (local $ha2 v128)
    (local $b0 v128) (local $b1 v128) (local $b2 v128) (local $lb0 v128) (local $hb0 v128) (local $lb1 v128) (local $hb1 v128) (local $lb2 v128) (local $hb2 v128)
    (local $c0 v128) (local $c1 v128) (local $c2 v128) (local $lc0 v128) (local $hc0 v128) (local $lc1 v128) (local $hc1 v128) (local $lc2 v128) (local $hc2 v128)
    (local $d0 v128) (local $d1 v128) (local $d2 v128) (local $ld0 v128) (local $hd0 v128) (local $ld1 v128) (local $hd1 v128) (local $ld2 v128) (local $hd2 v128)
    (local.set $w (global.get $W))
    (local.set $end (i32.add (local.get $pa) (global.get $RB)))
    (block $done
      (loop $blk
        (br_if $done (i32.ge_u (local.get $pa) (local.get $end)))
        (local.set $bend (select (local.get $end) (i32.add (local.get $pa) (i32.const 256))
          (i32.lt_u (i32.sub (local.get $end) (local.get $pa)) (i32.const 256))))
        (loop $l
          (local.set $k0 (v128.load offset=0 (local.get $w)))
          (local.set $k1 (v128.load offset=16 (local.get $w)))
          (local.set $k2 (v128.load offset=32 (local.get $w)))
          (local.set $x (v128.load (local.get $pa)))
          (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $x) (local.get $k0))))
          (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $x) (local.get $k1))))
          (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $x) (local.get $k2))))
          (local.set $x (v128.load (local.get $pb)))
          (local.set $b0 (f32x4.add (local.get $b0) (f32x4.mul (local.get $x) (local.get $k0))))
          (local.set $b1 (f32x4.add (local.get $b1) (f32x4.mul (local.get $x) (local.get $k1))))
          (local.set $b2 (f32x4.add (local.get $b2) (f32x4.mul (local.get $x) (local.get $k2))))
          (local.set $x (v128.load (local.get $pc)))
          (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (local.get $x) (local.get $k0))))
          (local.set $c1 (f32x4.add (local.get $c1) (f32x4.mul (local.get $x) (local.get $k1))))
          (local.set $c2 (f32x4.add (local.get $c2) (f32x4.mul (local.get $x) (local.get $k2))))
          (local.set $x (v128.load (local.get $pd)))
          (local.set $d0 (f32x4.add (local.get $d0) (f32x4.mul (local.get $x) (local.get $k0))))
          (local.set $d1 (f32x4.add (local.get $d1) (f32x4.mul (local.get $x) (local.get $k1))))
          (local.set $d2 (f32x4.add (local.get $d2) (f32x4.mul (local.get $x) (local.get $k2))))
          (local.set $pa (i32.add (local.get $pa) (i32.const 16)))
          (local.set $pb (i32.add (local.get $pb) (i32.const 16)))
          (local.set $pc (i32.add (local.get $pc) (i32.const 16)))
          (local.set $pd (i32.add (local.get $pd) (i32.const 16)))
          (local.set $w (i32.add (local.get $w) (i32.const 48)))
          (br_if $l (i32.lt_u (local.get $pa) (local.get $bend))))
        (local.set $la0 (f64x2.add (local.get $la0) (f64x2.promote_low_f32x4 (local.get $a0))))
        (local.set $ha0 (f64x2.add (local.get $ha0) (f64x2.promote_low_f32x4
          (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $a0) (local.get $a0)))))
        (local.set $a0 (v128.const i32x4 0 0 0 0))
        (local.set $la1 (f64x2.add (local.get $la1) (f64x2.promote_low_f32x4 (local.get $a1))))
        (local.set $ha1 (f64x2.add (local.get $ha1) (f64x2.promote_low_f32x4
          (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $a1) (local.get $a1)))))
        (local.set $a1 (v128.const i32x4 0 0 0 0))
        (local.set $la2 (f64x2.add (local.get $la2) (f64x2.promote_low_f32x4 (local.get $a2))))
        (local.set $ha2 (f64x2.add (local.get $ha2) (f64x2.promote_low_f32x4
          (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $a2) (local.get $a2)))))
        (local.set $a2 (v128.const i32x4 0 0 0 0))
        (local.set $lb0 (f64x2.add (local.get $lb0) (f64x2.promote_low_f32x4 (local.get $b0))))
        (local.set $hb0 (f64x2.add (local.get $hb0) (f64x2.promote_low_f32x4
          (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $b0) (local.get $b0)))))
        (local.set $b0 (v128.const i32x4 0 0 0 0))
        (local.set $lb1 (f64x2.add (local.get $lb1) (f64x2.promote_low_f32x4 (local.get $b1))))
        (local.set $hb1 (f64x2.add (local.get $hb1) (f64x2.promote_low_f32x4
          (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $b1) (local.get $b1)))))
        (local.set $b1 (v128.const i32x4 0 0 0 0))
        (local.set $lb2 (f64x2.add (local.get $lb2) (f64x2.promote_low_f32x4 (local.get $b2))))
        (local.set $hb2 (f64x2.add (local.get $hb2) (f64x2.promote_low_f32x4
          (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $b2) (local.get $b2)))))
        (local.set $b2 (v128.const i32x4 0 0 0 0))
        (local.set $lc0 (f64x2.add (local.get $lc0) (f64x2.promote_low_f32x4 (local.get $c0))))
        (local.set $hc0 (f64x2.add (local.get $hc0) (f64x2.promote_low_f32x4
          (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $c0) (local.get $c0)))))
        (local.set $c0 (v128.const i32x4 0 0 0 0))
        (local.set $lc1 (f64x2.add (local.get $lc1) (f64x2.promote_low_f32x4 (local.get $c1))))
        (local.set $hc1 (f64x2.add (local.get $hc1) (f64x2.promote_low_f32x4
          (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $c1) (local.get $c1)))))
        (local.set $c1 (v128.const i32x4 0 0 0 0))
        (local.set $lc2 (f64x2.add (local.get $lc2) (f64x2.promote_low_f32x4 (local.get $c2))))
        (local.set $hc2 (f64x2.add (local.get $hc2) (f64x2.promote_low_f32x4
          (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $c2) (local.get $c2)))))
        (local.set $c2 (v128.const i32x4 0 0 0 0))
        (local.set $ld0 (f64x2.add (local.get $ld0) (f64x2.promote_low_f32x4 (local.get $d0))))
        (local.set $hd0 (f64x2.add (local.get $hd0) (f64x2.promote_low_f32x4
          (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $d0) (local.get $d0)))))
        (local.set $d0 (v128.const i32x4 0 0 0 0))
        (local.set $ld1 (f64x2.add (local.get $ld1) (f64x2.promote_low_f32x4 (local.get $d1))))
        (local.set $hd1 (f64x2.add (local.get $hd1) (f64x2.promote_low_f32x4
          (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $d1) (local.get $d1)))))
        (local.set $d1 (v128.const i32x4 0 0 0 0))
        (local.set $ld2 (f64x2.add (local.get $ld2) (f64x2.promote_low_f32x4 (local.get $d2))))
        (local.set $hd2 (f64x2.add (local.get $hd2) (f64x2.promote_low_f32x4
          (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $d2) (local.get $d2)))))
        (local.set $d2 (v128.const i32x4 0 0 0 0))
        (br $blk)))
    (f64.store offset=0 (local.get $out) (f64.add
      (f64.add (f64x2.extract_lane 0 (local.get $la0)) (f64x2.extract_lane 1 (local.get $la0)))
      (f64.add (f64x2.extract_lane 0 (local.get $ha0)) (f64x2.extract_lane 1 (local.get $ha0)))))
    (f64.store offset=8 (local.get $out) (f64.add
      (f64.add (f64x2.extract_lane 0 (local.get $la1)) (f64x2.extract_lane 1 (local.get $la1)))
      (f64.add (f64x2.extract_lane 0 (local.get $ha1)) (f64x2.extract_lane 1 (local.get $ha1)))))
    (f64.store offset=16 (local.get $out) (f64.add
      (f64.add (f64x2.extract_lane 0 (local.get $la2)) (f64x2.extract_lane 1 (local.get $la2)))
      (f64.add (f64x2.extract_lane 0 (local.get $ha2)) (f64x2.extract_lane 1 (local.get $ha2)))))
    (f64.store offset=24 (local.get $out) (f64.add
      (f64.add (f64x2.extract_lane 0 (local.get $lb0)) (f64x2.extract_lane 1 (local.get $lb0)))
      (f64.add (f64x2.extract_lane 0 (local.get $hb0)) (f64x2.extract_lane 1 (local.get $hb0)))))
    (f64.store offset=32 (local.get $out) (f64.add
      (f64.add (f64x2.extract_lane 0 (local.get $lb1)) (f64x2.extract_lane 1 (local.get $lb1)))
      (f64.add (f64x2.extract_lane 0 (local.get $hb1)) (f64x2.extract_lane 1 (local.get $hb1)))))
    (f64.store offset=40 (local.get $out) (f64.add
      (f64.add (f64x2.extract_lane 0 (local.get $lb2)) (f64x2.extract_lane 1 (local.get $lb2)))
      (f64.add (f64x2.extract_lane 0 (local.get $hb2)) (f64x2.extract_lane 1 (local.get $hb2)))))
    (f64.store offset=48 (local.get $out) (f64.add
      (f64.add (f64x2.extract_lane 0 (local.get $lc0)) (f64x2.extract_lane 1 (local.get $lc0)))
      (f64.add (f64x2.extract_lane 0 (local.get $hc0)) (f64x2.extract_lane 1 (local.get $hc0)))))
    (f64.store offset=56 (local.get $out) (f64.add
      (f64.add (f64x2.extract_lane 0 (local.get $lc1)) (f64x2.extract_lane 1 (local.get $lc1)))
      (f64.add (f64x2.extract_lane 0 (local.get $hc1)) (f64x2.extract_lane 1 (local.get $hc1)))))
    (f64.store offset=64 (local.get $out) (f64.add
      (f64.add (f64x2.extract_lane 0 (local.get $lc2)) (f64x2.extract_lane 1 (local.get $lc2)))
      (f64.add (f64x2.extract_lane 0 (local.get $hc2)) (f64x2.extract_lane 1 (local.get $hc2)))))
    (f64.store offset=72 (local.get $out) (f64.add
      (f64.add (f64x2.extract_lane 0 (local.get $ld0)) (f64x2.extract_lane 1 (local.get $ld0)))
      (f64.add (f64x2.extract_lane 0 (local.get $hd0)) (f64x2.extract_lane 1 (local.get $hd0)))))
    (f64.store offset=80 (local.get $out) (f64.add
      (f64.add (f64x2.extract_lane 0 (local.get $ld1)) (f64x2.extract_lane 1 (local.get $ld1)))
      (f64.add (f64x2.extract_lane 0 (local.get $hd1)) (f64x2.extract_lane 1 (local.get $hd1)))))
    (f64.store offset=88 (local.get $out) (f64.add
      (f64.add (f64x2.extract_lane 0 (local.get $ld2)) (f64x2.extract_lane 1 (local.get $ld2)))
      (f64.add (f64x2.extract_lane 0 (local.get $hd2)) (f64x2.extract_lane 1 (local.get $hd2))))))

  ;; DOT[b*3 + o] for the nb rows whose byte addresses are in RP, four at a time (a short last
  ;; group repeats its last row; DOT has room for the extra slots).
  (func $forward (param $b0 i32) (param $nb i32)
    (local $b i32)
    (local.set $b (local.get $b0))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $b) (local.get $nb)))
        (call $fwd4
          (i32.load (i32.add (global.get $RP) (i32.shl (local.get $b) (i32.const 2))))
          (i32.load (i32.add (global.get $RP) (i32.shl
            (select (i32.add (local.get $b) (i32.const 1)) (i32.sub (local.get $nb) (i32.const 1))
              (i32.lt_u (i32.add (local.get $b) (i32.const 1)) (local.get $nb)))
            (i32.const 2))))
          (i32.load (i32.add (global.get $RP) (i32.shl
            (select (i32.add (local.get $b) (i32.const 2)) (i32.sub (local.get $nb) (i32.const 1))
              (i32.lt_u (i32.add (local.get $b) (i32.const 2)) (local.get $nb)))
            (i32.const 2))))
          (i32.load (i32.add (global.get $RP) (i32.shl
            (select (i32.add (local.get $b) (i32.const 3)) (i32.sub (local.get $nb) (i32.const 1))
              (i32.lt_u (i32.add (local.get $b) (i32.const 3)) (local.get $nb)))
            (i32.const 2))))
          (i32.add (global.get $DOT) (i32.mul (local.get $b) (i32.const 24))))
        (local.set $b (i32.add (local.get $b) (i32.const 4)))
        (br $l))))

  ;; Gradient of the batch (rows in RP, scaled errors in ES) into G (W's layout), three
  ;; f32x4 chunks (12 features) per pass, so that each row's 3 error splats are loaded once for 9
  ;; accumulators; rows are padded to a multiple of 12 floats. The sums run over the batch rows in
  ;; order, as in head.ts; the relaxed build fuses them into multiply-adds, as it does the dot products.
  (func $grad (param $nb i32)
    (local $i i32) (local $rp i32) (local $rend i32) (local $es i32) (local $row i32) (local $pg i32)
    (local $x v128) (local $e0 v128) (local $e1 v128) (local $e2 v128)
    (local $g00 v128) (local $g01 v128) (local $g02 v128) (local $g10 v128) (local $g11 v128) (local $g12 v128) (local $g20 v128) (local $g21 v128) (local $g22 v128)
    (local.set $rend (i32.add (global.get $RP) (i32.shl (local.get $nb) (i32.const 2))))
    (block $done
      (loop $li
        (br_if $done (i32.ge_u (local.get $i) (global.get $RB)))
        ;; first row: g_ok = x_k * e_o (o: output, k: which 4 of the 12 features)
        (local.set $rp (global.get $RP))
        (local.set $es (global.get $ES))
        (local.set $row (i32.add (i32.load (local.get $rp)) (local.get $i)))
        (local.set $e0 (v128.load offset=0 (local.get $es)))
        (local.set $e1 (v128.load offset=16 (local.get $es)))
        (local.set $e2 (v128.load offset=32 (local.get $es)))
        (local.set $x (v128.load offset=0 (local.get $row)))
        (local.set $g00 (f32x4.mul (local.get $x) (local.get $e0)))
        (local.set $g10 (f32x4.mul (local.get $x) (local.get $e1)))
        (local.set $g20 (f32x4.mul (local.get $x) (local.get $e2)))
        (local.set $x (v128.load offset=16 (local.get $row)))
        (local.set $g01 (f32x4.mul (local.get $x) (local.get $e0)))
        (local.set $g11 (f32x4.mul (local.get $x) (local.get $e1)))
        (local.set $g21 (f32x4.mul (local.get $x) (local.get $e2)))
        (local.set $x (v128.load offset=32 (local.get $row)))
        (local.set $g02 (f32x4.mul (local.get $x) (local.get $e0)))
        (local.set $g12 (f32x4.mul (local.get $x) (local.get $e1)))
        (local.set $g22 (f32x4.mul (local.get $x) (local.get $e2)))
        ;; the other rows, accumulated in order
        (block $bd
          (loop $lb
            (local.set $rp (i32.add (local.get $rp) (i32.const 4)))
            (br_if $bd (i32.ge_u (local.get $rp) (local.get $rend)))
            (local.set $es (i32.add (local.get $es) (i32.const 48)))
            (local.set $row (i32.add (i32.load (local.get $rp)) (local.get $i)))
            (local.set $e0 (v128.load offset=0 (local.get $es)))
            (local.set $e1 (v128.load offset=16 (local.get $es)))
            (local.set $e2 (v128.load offset=32 (local.get $es)))
            (local.set $x (v128.load offset=0 (local.get $row)))
            (local.set $g00 (f32x4.add (local.get $g00) (f32x4.mul (local.get $x) (local.get $e0))))
            (local.set $g10 (f32x4.add (local.get $g10) (f32x4.mul (local.get $x) (local.get $e1))))
            (local.set $g20 (f32x4.add (local.get $g20) (f32x4.mul (local.get $x) (local.get $e2))))
            (local.set $x (v128.load offset=16 (local.get $row)))
            (local.set $g01 (f32x4.add (local.get $g01) (f32x4.mul (local.get $x) (local.get $e0))))
            (local.set $g11 (f32x4.add (local.get $g11) (f32x4.mul (local.get $x) (local.get $e1))))
            (local.set $g21 (f32x4.add (local.get $g21) (f32x4.mul (local.get $x) (local.get $e2))))
            (local.set $x (v128.load offset=32 (local.get $row)))
            (local.set $g02 (f32x4.add (local.get $g02) (f32x4.mul (local.get $x) (local.get $e0))))
            (local.set $g12 (f32x4.add (local.get $g12) (f32x4.mul (local.get $x) (local.get $e1))))
            (local.set $g22 (f32x4.add (local.get $g22) (f32x4.mul (local.get $x) (local.get $e2))))
            (br $lb)))
        ;; the gradient, in W's layout, for Adam (adamAll, or adamFwd3 with the next batch's dot products)
        (local.set $pg (i32.add (global.get $G) (i32.mul (local.get $i) (i32.const 3))))
        (v128.store offset=0 (local.get $pg) (local.get $g00))
        (v128.store offset=48 (local.get $pg) (local.get $g01))
        (v128.store offset=96 (local.get $pg) (local.get $g02))
        (v128.store offset=16 (local.get $pg) (local.get $g10))
        (v128.store offset=64 (local.get $pg) (local.get $g11))
        (v128.store offset=112 (local.get $pg) (local.get $g12))
        (v128.store offset=32 (local.get $pg) (local.get $g20))
        (v128.store offset=80 (local.get $pg) (local.get $g21))
        (v128.store offset=128 (local.get $pg) (local.get $g22))
        (local.set $i (i32.add (local.get $i) (i32.const 48)))
        (br $li))))

  ;; Keras Adam on all of W from the gradient in G: m = b1 m + c1 g; v = b2 v + (c2 g) g;
  ;; w -= (lrt m) / (sqrt(v) + eps). Elementwise, so its order does not matter.
  (func $adamAll (param $lrt f32) (param $b1 f32) (param $c1 f32) (param $b2 f32) (param $c2 f32) (param $eps f32)
    (local $i i32) (local $end i32) (local $pg i32) (local $pm i32) (local $pv i32) (local $pw i32) (local $g v128) (local $m v128) (local $v v128)
    (local $vb1 v128) (local $vc1 v128) (local $vb2 v128) (local $vc2 v128) (local $veps v128) (local $vlrt v128)
    (local.set $vb1 (f32x4.splat (local.get $b1)))
    (local.set $vc1 (f32x4.splat (local.get $c1)))
    (local.set $vb2 (f32x4.splat (local.get $b2)))
    (local.set $vc2 (f32x4.splat (local.get $c2)))
    (local.set $veps (f32x4.splat (local.get $eps)))
    (local.set $vlrt (f32x4.splat (local.get $lrt)))
    (local.set $end (i32.mul (global.get $RB) (i32.const 3)))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $pg (i32.add (global.get $G) (local.get $i)))
        (local.set $pm (i32.add (global.get $M) (local.get $i)))
        (local.set $pv (i32.add (global.get $V) (local.get $i)))
        (local.set $pw (i32.add (global.get $W) (local.get $i)))
        (local.set $g (v128.load (local.get $pg)))
        (local.set $m (f32x4.add (f32x4.mul (local.get $vb1) (v128.load (local.get $pm))) (f32x4.mul (local.get $vc1) (local.get $g))))
        (v128.store (local.get $pm) (local.get $m))
        (local.set $v (f32x4.add (f32x4.mul (local.get $vb2) (v128.load (local.get $pv))) (f32x4.mul (f32x4.mul (local.get $vc2) (local.get $g)) (local.get $g))))
        (v128.store (local.get $pv) (local.get $v))
        (v128.store (local.get $pw) (f32x4.sub (v128.load (local.get $pw))
          (f32x4.div (f32x4.mul (local.get $vlrt) (local.get $m)) (f32x4.add (f32x4.sqrt (local.get $v)) (local.get $veps)))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $l))))

  ;; adamAll fused with the dot products of three rows (pq, pr, ps; as fwd4, out[3 r + o]): each
  ;; chunk of 4 features is updated, then its new kernel values meet the rows while still in registers,
  ;; so the square roots and divisions of Adam overlap the multiply-adds. The next batch's first rows.
  (func $adamFwd3 (param $pq i32) (param $pr i32) (param $ps i32) (param $out i32) (param $lrt f32) (param $b1 f32) (param $c1 f32) (param $b2 f32) (param $c2 f32) (param $eps f32)
    (local $w i32) (local $end i32) (local $bend i32) (local $d i32) (local $pg i32) (local $pm i32) (local $pv i32)
    (local $x v128) (local $g v128) (local $m v128) (local $v v128) (local $k0 v128) (local $k1 v128) (local $k2 v128)
    (local $vb1 v128) (local $vc1 v128) (local $vb2 v128) (local $vc2 v128) (local $veps v128) (local $vlrt v128)
    (local $q0 v128) (local $q1 v128) (local $q2 v128) (local $lq0 v128) (local $hq0 v128) (local $lq1 v128) (local $hq1 v128) (local $lq2 v128) (local $hq2 v128)
    (local $r0 v128) (local $r1 v128) (local $r2 v128) (local $lr0 v128) (local $hr0 v128) (local $lr1 v128) (local $hr1 v128) (local $lr2 v128) (local $hr2 v128)
    (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $ls0 v128) (local $hs0 v128) (local $ls1 v128) (local $hs1 v128) (local $ls2 v128) (local $hs2 v128)
    (local.set $vb1 (f32x4.splat (local.get $b1)))
    (local.set $vc1 (f32x4.splat (local.get $c1)))
    (local.set $vb2 (f32x4.splat (local.get $b2)))
    (local.set $vc2 (f32x4.splat (local.get $c2)))
    (local.set $veps (f32x4.splat (local.get $eps)))
    (local.set $vlrt (f32x4.splat (local.get $lrt)))
    (local.set $w (global.get $W))
    (local.set $d (i32.sub (global.get $G) (global.get $W)))
    (local.set $end (i32.add (local.get $pq) (global.get $RB)))
    (block $done
      (loop $blk
        (br_if $done (i32.ge_u (local.get $pq) (local.get $end)))
        (local.set $bend (select (local.get $end) (i32.add (local.get $pq) (i32.const 256))
          (i32.lt_u (i32.sub (local.get $end) (local.get $pq)) (i32.const 256))))
        (loop $l
          (local.set $pg (i32.add (local.get $w) (local.get $d)))
          (local.set $pm (i32.add (local.get $w) (i32.sub (global.get $M) (global.get $W))))
          (local.set $pv (i32.add (local.get $w) (i32.sub (global.get $V) (global.get $W))))
          (local.set $g (v128.load offset=0 (local.get $pg)))
          (local.set $m (f32x4.add (f32x4.mul (local.get $vb1) (v128.load offset=0 (local.get $pm))) (f32x4.mul (local.get $vc1) (local.get $g))))
          (v128.store offset=0 (local.get $pm) (local.get $m))
          (local.set $v (f32x4.add (f32x4.mul (local.get $vb2) (v128.load offset=0 (local.get $pv))) (f32x4.mul (f32x4.mul (local.get $vc2) (local.get $g)) (local.get $g))))
          (v128.store offset=0 (local.get $pv) (local.get $v))
          (local.set $k0 (f32x4.sub (v128.load offset=0 (local.get $w))
            (f32x4.div (f32x4.mul (local.get $vlrt) (local.get $m)) (f32x4.add (f32x4.sqrt (local.get $v)) (local.get $veps)))))
          (v128.store offset=0 (local.get $w) (local.get $k0))
          (local.set $g (v128.load offset=16 (local.get $pg)))
          (local.set $m (f32x4.add (f32x4.mul (local.get $vb1) (v128.load offset=16 (local.get $pm))) (f32x4.mul (local.get $vc1) (local.get $g))))
          (v128.store offset=16 (local.get $pm) (local.get $m))
          (local.set $v (f32x4.add (f32x4.mul (local.get $vb2) (v128.load offset=16 (local.get $pv))) (f32x4.mul (f32x4.mul (local.get $vc2) (local.get $g)) (local.get $g))))
          (v128.store offset=16 (local.get $pv) (local.get $v))
          (local.set $k1 (f32x4.sub (v128.load offset=16 (local.get $w))
            (f32x4.div (f32x4.mul (local.get $vlrt) (local.get $m)) (f32x4.add (f32x4.sqrt (local.get $v)) (local.get $veps)))))
          (v128.store offset=16 (local.get $w) (local.get $k1))
          (local.set $g (v128.load offset=32 (local.get $pg)))
          (local.set $m (f32x4.add (f32x4.mul (local.get $vb1) (v128.load offset=32 (local.get $pm))) (f32x4.mul (local.get $vc1) (local.get $g))))
          (v128.store offset=32 (local.get $pm) (local.get $m))
          (local.set $v (f32x4.add (f32x4.mul (local.get $vb2) (v128.load offset=32 (local.get $pv))) (f32x4.mul (f32x4.mul (local.get $vc2) (local.get $g)) (local.get $g))))
          (v128.store offset=32 (local.get $pv) (local.get $v))
          (local.set $k2 (f32x4.sub (v128.load offset=32 (local.get $w))
            (f32x4.div (f32x4.mul (local.get $vlrt) (local.get $m)) (f32x4.add (f32x4.sqrt (local.get $v)) (local.get $veps)))))
          (v128.store offset=32 (local.get $w) (local.get $k2))
          (local.set $x (v128.load (local.get $pq)))
          (local.set $q0 (f32x4.add (local.get $q0) (f32x4.mul (local.get $x) (local.get $k0))))
          (local.set $q1 (f32x4.add (local.get $q1) (f32x4.mul (local.get $x) (local.get $k1))))
          (local.set $q2 (f32x4.add (local.get $q2) (f32x4.mul (local.get $x) (local.get $k2))))
          (local.set $x (v128.load (local.get $pr)))
          (local.set $r0 (f32x4.add (local.get $r0) (f32x4.mul (local.get $x) (local.get $k0))))
          (local.set $r1 (f32x4.add (local.get $r1) (f32x4.mul (local.get $x) (local.get $k1))))
          (local.set $r2 (f32x4.add (local.get $r2) (f32x4.mul (local.get $x) (local.get $k2))))
          (local.set $x (v128.load (local.get $ps)))
          (local.set $s0 (f32x4.add (local.get $s0) (f32x4.mul (local.get $x) (local.get $k0))))
          (local.set $s1 (f32x4.add (local.get $s1) (f32x4.mul (local.get $x) (local.get $k1))))
          (local.set $s2 (f32x4.add (local.get $s2) (f32x4.mul (local.get $x) (local.get $k2))))
          (local.set $pq (i32.add (local.get $pq) (i32.const 16)))
          (local.set $pr (i32.add (local.get $pr) (i32.const 16)))
          (local.set $ps (i32.add (local.get $ps) (i32.const 16)))
          (local.set $w (i32.add (local.get $w) (i32.const 48)))
          (br_if $l (i32.lt_u (local.get $pq) (local.get $bend))))
        (local.set $lq0 (f64x2.add (local.get $lq0) (f64x2.promote_low_f32x4 (local.get $q0))))
        (local.set $hq0 (f64x2.add (local.get $hq0) (f64x2.promote_low_f32x4
          (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $q0) (local.get $q0)))))
        (local.set $q0 (v128.const i32x4 0 0 0 0))
        (local.set $lq1 (f64x2.add (local.get $lq1) (f64x2.promote_low_f32x4 (local.get $q1))))
        (local.set $hq1 (f64x2.add (local.get $hq1) (f64x2.promote_low_f32x4
          (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $q1) (local.get $q1)))))
        (local.set $q1 (v128.const i32x4 0 0 0 0))
        (local.set $lq2 (f64x2.add (local.get $lq2) (f64x2.promote_low_f32x4 (local.get $q2))))
        (local.set $hq2 (f64x2.add (local.get $hq2) (f64x2.promote_low_f32x4
          (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $q2) (local.get $q2)))))
        (local.set $q2 (v128.const i32x4 0 0 0 0))
        (local.set $lr0 (f64x2.add (local.get $lr0) (f64x2.promote_low_f32x4 (local.get $r0))))
        (local.set $hr0 (f64x2.add (local.get $hr0) (f64x2.promote_low_f32x4
          (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $r0) (local.get $r0)))))
        (local.set $r0 (v128.const i32x4 0 0 0 0))
        (local.set $lr1 (f64x2.add (local.get $lr1) (f64x2.promote_low_f32x4 (local.get $r1))))
        (local.set $hr1 (f64x2.add (local.get $hr1) (f64x2.promote_low_f32x4
          (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $r1) (local.get $r1)))))
        (local.set $r1 (v128.const i32x4 0 0 0 0))
        (local.set $lr2 (f64x2.add (local.get $lr2) (f64x2.promote_low_f32x4 (local.get $r2))))
        (local.set $hr2 (f64x2.add (local.get $hr2) (f64x2.promote_low_f32x4
          (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $r2) (local.get $r2)))))
        (local.set $r2 (v128.const i32x4 0 0 0 0))
        (local.set $ls0 (f64x2.add (local.get $ls0) (f64x2.promote_low_f32x4 (local.get $s0))))
        (local.set $hs0 (f64x2.add (local.get $hs0) (f64x2.promote_low_f32x4
          (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $s0) (local.get $s0)))))
        (local.set $s0 (v128.const i32x4 0 0 0 0))
        (local.set $ls1 (f64x2.add (local.get $ls1) (f64x2.promote_low_f32x4 (local.get $s1))))
        (local.set $hs1 (f64x2.add (local.get $hs1) (f64x2.promote_low_f32x4
          (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $s1) (local.get $s1)))))
        (local.set $s1 (v128.const i32x4 0 0 0 0))
        (local.set $ls2 (f64x2.add (local.get $ls2) (f64x2.promote_low_f32x4 (local.get $s2))))
        (local.set $hs2 (f64x2.add (local.get $hs2) (f64x2.promote_low_f32x4
          (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $s2) (local.get $s2)))))
        (local.set $s2 (v128.const i32x4 0 0 0 0))
        (br $blk)))
    (f64.store offset=0 (local.get $out) (f64.add
      (f64.add (f64x2.extract_lane 0 (local.get $lq0)) (f64x2.extract_lane 1 (local.get $lq0)))
      (f64.add (f64x2.extract_lane 0 (local.get $hq0)) (f64x2.extract_lane 1 (local.get $hq0)))))
    (f64.store offset=8 (local.get $out) (f64.add
      (f64.add (f64x2.extract_lane 0 (local.get $lq1)) (f64x2.extract_lane 1 (local.get $lq1)))
      (f64.add (f64x2.extract_lane 0 (local.get $hq1)) (f64x2.extract_lane 1 (local.get $hq1)))))
    (f64.store offset=16 (local.get $out) (f64.add
      (f64.add (f64x2.extract_lane 0 (local.get $lq2)) (f64x2.extract_lane 1 (local.get $lq2)))
      (f64.add (f64x2.extract_lane 0 (local.get $hq2)) (f64x2.extract_lane 1 (local.get $hq2)))))
    (f64.store offset=24 (local.get $out) (f64.add
      (f64.add (f64x2.extract_lane 0 (local.get $lr0)) (f64x2.extract_lane 1 (local.get $lr0)))
      (f64.add (f64x2.extract_lane 0 (local.get $hr0)) (f64x2.extract_lane 1 (local.get $hr0)))))
    (f64.store offset=32 (local.get $out) (f64.add
      (f64.add (f64x2.extract_lane 0 (local.get $lr1)) (f64x2.extract_lane 1 (local.get $lr1)))
      (f64.add (f64x2.extract_lane 0 (local.get $hr1)) (f64x2.extract_lane 1 (local.get $hr1)))))
    (f64.store offset=40 (local.get $out) (f64.add
      (f64.add (f64x2.extract_lane 0 (local.get $lr2)) (f64x2.extract_lane 1 (local.get $lr2)))
      (f64.add (f64x2.extract_lane 0 (local.get $hr2)) (f64x2.extract_lane 1 (local.get $hr2)))))
    (f64.store offset=48 (local.get $out) (f64.add
      (f64.add (f64x2.extract_lane 0 (local.get $ls0)) (f64x2.extract_lane 1 (local.get $ls0)))
      (f64.add (f64x2.extract_lane 0 (local.get $hs0)) (f64x2.extract_lane 1 (local.get $hs0)))))
    (f64.store offset=56 (local.get $out) (f64.add
      (f64.add (f64x2.extract_lane 0 (local.get $ls1)) (f64x2.extract_lane 1 (local.get $ls1)))
      (f64.add (f64x2.extract_lane 0 (local.get $hs1)) (f64x2.extract_lane 1 (local.get $hs1)))))
    (f64.store offset=64 (local.get $out) (f64.add
      (f64.add (f64x2.extract_lane 0 (local.get $ls2)) (f64x2.extract_lane 1 (local.get $ls2)))
      (f64.add (f64x2.extract_lane 0 (local.get $hs2)) (f64x2.extract_lane 1 (local.get $hs2))))))

  ;; One epoch over the n row indices at `order` in batches of B; lrt: f64 per step of the epoch.
  ;; Returns the sum over rows of squared errors (e0^2 + e1^2 + e2^2) as head.ts accumulates it.
  (func (export "epoch") (param $order i32) (param $n i32) (param $B i32) (param $lrtp i32)
    (param $b1 f64) (param $b2 f64) (param $eps f64) (result f64)
    (local $start i32) (local $nb i32) (local $b i32) (local $r i32) (local $o i32) (local $p i32)
    (local $gscale f64) (local $loss f64) (local $e f64) (local $se f64) (local $lrt f64) (local $g f64)
    (local $mb f64) (local $vb f64) (local $c1 f64) (local $c2 f64) (local $pending i32) (local $plrt f32)
    (local.set $c1 (f64.sub (f64.const 1) (local.get $b1)))
    (local.set $c2 (f64.sub (f64.const 1) (local.get $b2)))
    (block $done
      (loop $ls
        (br_if $done (i32.ge_u (local.get $start) (local.get $n)))
        (local.set $nb (select (local.get $B) (i32.sub (local.get $n) (local.get $start))
          (i32.lt_u (local.get $B) (i32.sub (local.get $n) (local.get $start)))))
        (local.set $gscale (f64.div (f64.const 2) (f64.convert_i32_u (i32.mul (local.get $nb) (i32.const 3)))))
        ;; row addresses
        (local.set $b (i32.const 0))
        (loop $lr
          (i32.store (i32.add (global.get $RP) (i32.shl (local.get $b) (i32.const 2)))
            (i32.add (global.get $X) (i32.mul (global.get $RB)
              (i32.load (i32.add (local.get $order) (i32.shl (i32.add (local.get $start) (local.get $b)) (i32.const 2)))))))
          (local.set $b (i32.add (local.get $b) (i32.const 1)))
          (br_if $lr (i32.lt_u (local.get $b) (local.get $nb))))
        ;; the previous step's Adam with this batch's first three rows, then the other rows
        (if (local.get $pending)
          (then
            (call $adamFwd3
              (i32.load (global.get $RP))
              (i32.load (i32.add (global.get $RP) (i32.shl
            (select (i32.const 1) (i32.sub (local.get $nb) (i32.const 1)) (i32.lt_u (i32.const 1) (local.get $nb)))
            (i32.const 2))))
              (i32.load (i32.add (global.get $RP) (i32.shl
            (select (i32.const 2) (i32.sub (local.get $nb) (i32.const 1)) (i32.lt_u (i32.const 2) (local.get $nb)))
            (i32.const 2))))
              (global.get $DOT) (local.get $plrt)
              (f32.demote_f64 (local.get $b1)) (f32.demote_f64 (local.get $c1))
              (f32.demote_f64 (local.get $b2)) (f32.demote_f64 (local.get $c2)) (f32.demote_f64 (local.get $eps)))
            (call $forward (i32.const 3) (local.get $nb)))
          (else (call $forward (i32.const 0) (local.get $nb))))
        ;; errors
        (local.set $b (i32.const 0))
        (loop $le
          (local.set $r (i32.load (i32.add (local.get $order) (i32.shl (i32.add (local.get $start) (local.get $b)) (i32.const 2)))))
          (local.set $se (f64.const 0))
          (local.set $o (i32.const 0))
          (loop $lo
            (local.set $p (i32.add (i32.mul (local.get $b) (i32.const 3)) (local.get $o)))
            (local.set $e (f64.sub
              (f64.add (f64.promote_f32 (f32.load (i32.add (global.get $BIAS) (i32.shl (local.get $o) (i32.const 2)))))
                       (f64.load (i32.add (global.get $DOT) (i32.shl (local.get $p) (i32.const 3)))))
              (f64.promote_f32 (f32.load (i32.add (global.get $LAB)
                (i32.shl (i32.add (i32.mul (local.get $r) (i32.const 3)) (local.get $o)) (i32.const 2)))))))
            (local.set $se (f64.add (local.get $se) (f64.mul (local.get $e) (local.get $e))))
            (local.set $e (f64.mul (local.get $e) (local.get $gscale)))
            (f64.store (i32.add (global.get $ED) (i32.shl (local.get $p) (i32.const 3))) (local.get $e))
            (v128.store (i32.add (global.get $ES) (i32.shl (local.get $p) (i32.const 4)))
              (f32x4.splat (f32.demote_f64 (local.get $e))))
            (local.set $o (i32.add (local.get $o) (i32.const 1)))
            (br_if $lo (i32.lt_u (local.get $o) (i32.const 3))))
          (local.set $loss (f64.add (local.get $loss) (local.get $se)))
          (local.set $b (i32.add (local.get $b) (i32.const 1)))
          (br_if $le (i32.lt_u (local.get $b) (local.get $nb))))
        (local.set $lrt (f64.load (local.get $lrtp)))
        (local.set $lrtp (i32.add (local.get $lrtp) (i32.const 8)))
        (call $grad (local.get $nb))
        (local.set $pending (i32.const 1))
        (local.set $plrt (f32.demote_f64 (local.get $lrt)))
        ;; bias (f64 Adam state, f32 bias), exactly as head.ts
        (local.set $o (i32.const 0))
        (loop $lo
          (local.set $g (f64.const 0))
          (local.set $b (i32.const 0))
          (loop $lb
            (local.set $g (f64.add (local.get $g)
              (f64.load (i32.add (global.get $ED) (i32.shl (i32.add (i32.mul (local.get $b) (i32.const 3)) (local.get $o)) (i32.const 3))))))
            (local.set $b (i32.add (local.get $b) (i32.const 1)))
            (br_if $lb (i32.lt_u (local.get $b) (local.get $nb))))
          (local.set $p (i32.shl (local.get $o) (i32.const 3)))
          (local.set $mb (f64.add (f64.mul (local.get $b1) (f64.load (i32.add (global.get $MB) (local.get $p))))
                                  (f64.mul (local.get $c1) (local.get $g))))
          (f64.store (i32.add (global.get $MB) (local.get $p)) (local.get $mb))
          (local.set $vb (f64.add (f64.mul (local.get $b2) (f64.load (i32.add (global.get $VB) (local.get $p))))
                                  (f64.mul (f64.mul (local.get $c2) (local.get $g)) (local.get $g))))
          (f64.store (i32.add (global.get $VB) (local.get $p)) (local.get $vb))
          (local.set $p (i32.add (global.get $BIAS) (i32.shl (local.get $o) (i32.const 2))))
          (f32.store (local.get $p) (f32.demote_f64
            (f64.sub (f64.promote_f32 (f32.load (local.get $p)))
              (f64.div (f64.mul (local.get $lrt) (local.get $mb)) (f64.add (f64.sqrt (local.get $vb)) (local.get $eps))))))
          (local.set $o (i32.add (local.get $o) (i32.const 1)))
          (br_if $lo (i32.lt_u (local.get $o) (i32.const 3))))
        (local.set $start (i32.add (local.get $start) (local.get $B)))
        (br $ls)))
    ;; the last step's Adam
    (if (local.get $pending)
      (then
        (call $adamAll (local.get $plrt)
          (f32.demote_f64 (local.get $b1)) (f32.demote_f64 (local.get $c1))
          (f32.demote_f64 (local.get $b2)) (f32.demote_f64 (local.get $c2)) (f32.demote_f64 (local.get $eps)))))
    (local.get $loss))

  ;; Sum of squared errors of f32-rounded predictions (as predictHead + mseOf) over the n rows at idx.
  (func (export "sse") (param $idx i32) (param $n i32) (result f64)
    (local $i i32) (local $nb i32) (local $b i32) (local $r i32) (local $o i32) (local $e f64) (local $s f64)
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $nb (select (i32.const 4) (i32.sub (local.get $n) (local.get $i))
          (i32.lt_u (i32.const 4) (i32.sub (local.get $n) (local.get $i)))))
        (call $fwd4
          (i32.add (global.get $X) (i32.mul (global.get $RB) (i32.load (i32.add (local.get $idx) (i32.shl (local.get $i) (i32.const 2))))))
          (i32.add (global.get $X) (i32.mul (global.get $RB) (i32.load (i32.add (local.get $idx)
            (i32.shl (i32.add (local.get $i) (select (i32.const 1) (i32.sub (local.get $nb) (i32.const 1)) (i32.lt_u (i32.const 1) (local.get $nb)))) (i32.const 2))))))
          (i32.add (global.get $X) (i32.mul (global.get $RB) (i32.load (i32.add (local.get $idx)
            (i32.shl (i32.add (local.get $i) (select (i32.const 2) (i32.sub (local.get $nb) (i32.const 1)) (i32.lt_u (i32.const 2) (local.get $nb)))) (i32.const 2))))))
          (i32.add (global.get $X) (i32.mul (global.get $RB) (i32.load (i32.add (local.get $idx)
            (i32.shl (i32.add (local.get $i) (select (i32.const 3) (i32.sub (local.get $nb) (i32.const 1)) (i32.lt_u (i32.const 3) (local.get $nb)))) (i32.const 2))))))
          (global.get $DOT))
        (local.set $b (i32.const 0))
        (loop $lb
          (local.set $r (i32.load (i32.add (local.get $idx) (i32.shl (i32.add (local.get $i) (local.get $b)) (i32.const 2)))))
          (local.set $o (i32.const 0))
          (loop $lo
            (local.set $e (f64.sub
              (f64.promote_f32 (f32.demote_f64 (f64.add
                (f64.load (i32.add (global.get $DOT) (i32.shl (i32.add (i32.mul (local.get $b) (i32.const 3)) (local.get $o)) (i32.const 3))))
                (f64.promote_f32 (f32.load (i32.add (global.get $BIAS) (i32.shl (local.get $o) (i32.const 2))))))))
              (f64.promote_f32 (f32.load (i32.add (global.get $LAB)
                (i32.shl (i32.add (i32.mul (local.get $r) (i32.const 3)) (local.get $o)) (i32.const 2)))))))
            (local.set $s (f64.add (local.get $s) (f64.mul (local.get $e) (local.get $e))))
            (local.set $o (i32.add (local.get $o) (i32.const 1)))
            (br_if $lo (i32.lt_u (local.get $o) (i32.const 3))))
          (local.set $b (i32.add (local.get $b) (i32.const 1)))
          (br_if $lb (i32.lt_u (local.get $b) (local.get $nb))))
        (local.set $i (i32.add (local.get $i) (local.get $nb)))
        (br $l)))
    (local.get $s))
)
