;; Dense(3) head trainer kernel: MSE + Keras Adam on mini-batches, f32x4 SIMD.
;; Source of lib/train/wasm/head_wasm.ts (regenerate: npx tsx scripts/build-head-wasm.ts).
;;
;; Memory layout (byte addresses chosen by lib/train/head_simd.ts, all 16-byte aligned):
;;   X      rows x FP f32, rows padded with zeros to FP (a multiple of 8) floats; RB = 4 FP bytes
;;   LAB    rows x 3 f32 labels
;;   W M V  planar kernel / Adam m / Adam v: output o at base + o*RB, FP f32 each (padding stays 0)
;;   BIAS   f32[3] bias; MB, VB: f64[3] Adam state of the bias (as in head.ts)
;;   RP     i32[B] byte address of each batch row; ES v128[B*3] scaled errors as f32 splats;
;;   ED     f64[B*3] scaled errors; DOT f64[(B+1)*3] dot products of the batch rows with W
(module
  (memory (export "mem") 1 65536)
  (global $X (mut i32) (i32.const 0))
  (global $RB (mut i32) (i32.const 0))
  (global $LAB (mut i32) (i32.const 0))
  (global $W (mut i32) (i32.const 0))
  (global $M (mut i32) (i32.const 0))
  (global $V (mut i32) (i32.const 0))
  (global $BIAS (mut i32) (i32.const 0))
  (global $MB (mut i32) (i32.const 0))
  (global $VB (mut i32) (i32.const 0))
  (global $RP (mut i32) (i32.const 0))
  (global $ES (mut i32) (i32.const 0))
  (global $ED (mut i32) (i32.const 0))
  (global $DOT (mut i32) (i32.const 0))

  (func (export "setup")
    (param $x i32) (param $rb i32) (param $lab i32) (param $w i32) (param $m i32) (param $v i32)
    (param $bias i32) (param $mb i32) (param $vb i32) (param $rp i32) (param $es i32) (param $ed i32) (param $dot i32)
    (global.set $X (local.get $x))
    (global.set $RB (local.get $rb))
    (global.set $LAB (local.get $lab))
    (global.set $W (local.get $w))
    (global.set $M (local.get $m))
    (global.set $V (local.get $v))
    (global.set $BIAS (local.get $bias))
    (global.set $MB (local.get $mb))
    (global.set $VB (local.get $vb))
    (global.set $RP (local.get $rp))
    (global.set $ES (local.get $es))
    (global.set $ED (local.get $ed))
    (global.set $DOT (local.get $dot)))

  ;; Dot products of two rows (byte addresses pa, pb) with the 3 kernel columns -> f64 out[0..6).
  ;; f32x4 partial sums over blocks of 64 features, folded into f64x2 sums (lanes 0-1 and 2-3), so
  ;; the rounding error does not grow with F as a plain f32 accumulation would.
  (func $fwd2 (param $pa i32) (param $pb i32) (param $out i32)
    (local $w0 i32) (local $w1 i32) (local $w2 i32) (local $end i32) (local $bend i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $c0 v128) (local $c1 v128) (local $c2 v128)
    (local $xa v128) (local $xb v128) (local $k v128)
    (local $la0 v128) (local $ha0 v128) (local $la1 v128) (local $ha1 v128) (local $la2 v128) (local $ha2 v128) (local $lc0 v128) (local $hc0 v128) (local $lc1 v128) (local $hc1 v128) (local $lc2 v128) (local $hc2 v128)
    (local.set $w0 (global.get $W))
    (local.set $w1 (i32.add (local.get $w0) (global.get $RB)))
    (local.set $w2 (i32.add (local.get $w1) (global.get $RB)))
    (local.set $end (i32.add (local.get $pa) (global.get $RB)))
    (block $done
      (loop $blk
        (br_if $done (i32.ge_u (local.get $pa) (local.get $end)))
        (local.set $bend (select (local.get $end) (i32.add (local.get $pa) (i32.const 256))
          (i32.lt_u (i32.sub (local.get $end) (local.get $pa)) (i32.const 256))))
        (loop $l
          (local.set $xa (v128.load (local.get $pa)))
          (local.set $xb (v128.load (local.get $pb)))
          (local.set $k (v128.load (local.get $w0)))
          (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $xa) (local.get $k))))
          (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (local.get $xb) (local.get $k))))
          (local.set $k (v128.load (local.get $w1)))
          (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $xa) (local.get $k))))
          (local.set $c1 (f32x4.add (local.get $c1) (f32x4.mul (local.get $xb) (local.get $k))))
          (local.set $k (v128.load (local.get $w2)))
          (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $xa) (local.get $k))))
          (local.set $c2 (f32x4.add (local.get $c2) (f32x4.mul (local.get $xb) (local.get $k))))
          (local.set $pa (i32.add (local.get $pa) (i32.const 16)))
          (local.set $pb (i32.add (local.get $pb) (i32.const 16)))
          (local.set $w0 (i32.add (local.get $w0) (i32.const 16)))
          (local.set $w1 (i32.add (local.get $w1) (i32.const 16)))
          (local.set $w2 (i32.add (local.get $w2) (i32.const 16)))
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
      (f64.add (f64x2.extract_lane 0 (local.get $lc0)) (f64x2.extract_lane 1 (local.get $lc0)))
      (f64.add (f64x2.extract_lane 0 (local.get $hc0)) (f64x2.extract_lane 1 (local.get $hc0)))))
    (f64.store offset=32 (local.get $out) (f64.add
      (f64.add (f64x2.extract_lane 0 (local.get $lc1)) (f64x2.extract_lane 1 (local.get $lc1)))
      (f64.add (f64x2.extract_lane 0 (local.get $hc1)) (f64x2.extract_lane 1 (local.get $hc1)))))
    (f64.store offset=40 (local.get $out) (f64.add
      (f64.add (f64x2.extract_lane 0 (local.get $lc2)) (f64x2.extract_lane 1 (local.get $lc2)))
      (f64.add (f64x2.extract_lane 0 (local.get $hc2)) (f64x2.extract_lane 1 (local.get $hc2)))))
  )

  ;; DOT[b*3 + o] for the nb rows whose byte addresses are in RP.
  (func $forward (param $nb i32)
    (local $b i32)
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $b) (local.get $nb)))
        (call $fwd2
          (i32.load (i32.add (global.get $RP) (i32.shl (local.get $b) (i32.const 2))))
          (i32.load (i32.add (global.get $RP) (i32.shl
            (select (i32.add (local.get $b) (i32.const 1)) (local.get $b)
              (i32.lt_u (i32.add (local.get $b) (i32.const 1)) (local.get $nb)))
            (i32.const 2))))
          (i32.add (global.get $DOT) (i32.mul (local.get $b) (i32.const 24))))
        (local.set $b (i32.add (local.get $b) (i32.const 2)))
        (br $l))))

  ;; Gradient of the batch (rows in RP, scaled errors in ES) fused with the Adam update of W, two
  ;; f32x4 chunks (8 features) per pass; rows are padded to a multiple of 8 floats.
  (func $gradAdam (param $nb i32) (param $lrt f32) (param $b1 f32) (param $c1 f32) (param $b2 f32) (param $c2 f32) (param $eps f32)
    (local $i i32) (local $b i32) (local $rp i32) (local $es i32) (local $row i32) (local $addr i32) (local $a i32) (local $o i32)
    (local $x v128) (local $y v128) (local $g0 v128) (local $g1 v128) (local $g2 v128) (local $h0 v128) (local $h1 v128) (local $h2 v128)
    (local $g v128) (local $h v128)
    (local $vb1 v128) (local $vc1 v128) (local $vb2 v128) (local $vc2 v128) (local $veps v128) (local $vlrt v128)
    (local $m v128) (local $v v128)
    (local.set $vb1 (f32x4.splat (local.get $b1)))
    (local.set $vc1 (f32x4.splat (local.get $c1)))
    (local.set $vb2 (f32x4.splat (local.get $b2)))
    (local.set $vc2 (f32x4.splat (local.get $c2)))
    (local.set $veps (f32x4.splat (local.get $eps)))
    (local.set $vlrt (f32x4.splat (local.get $lrt)))
    (block $done
      (loop $li
        (br_if $done (i32.ge_u (local.get $i) (global.get $RB)))
        ;; g_o = sum_b x_b * e_bo (h_o: the next 4 features)
        (local.set $rp (global.get $RP))
        (local.set $es (global.get $ES))
        (local.set $row (i32.add (i32.load (local.get $rp)) (local.get $i)))
        (local.set $x (v128.load offset=0 (local.get $row)))
        (local.set $y (v128.load offset=16 (local.get $row)))
        (local.set $g0 (f32x4.mul (local.get $x) (v128.load offset=0 (local.get $es))))
        (local.set $h0 (f32x4.mul (local.get $y) (v128.load offset=0 (local.get $es))))
        (local.set $g1 (f32x4.mul (local.get $x) (v128.load offset=16 (local.get $es))))
        (local.set $h1 (f32x4.mul (local.get $y) (v128.load offset=16 (local.get $es))))
        (local.set $g2 (f32x4.mul (local.get $x) (v128.load offset=32 (local.get $es))))
        (local.set $h2 (f32x4.mul (local.get $y) (v128.load offset=32 (local.get $es))))
        (local.set $b (i32.const 1))
        (block $bd
          (loop $lb
            (br_if $bd (i32.ge_u (local.get $b) (local.get $nb)))
            (local.set $rp (i32.add (local.get $rp) (i32.const 4)))
            (local.set $es (i32.add (local.get $es) (i32.const 48)))
            (local.set $row (i32.add (i32.load (local.get $rp)) (local.get $i)))
            (local.set $x (v128.load offset=0 (local.get $row)))
            (local.set $y (v128.load offset=16 (local.get $row)))
            (local.set $g0 (f32x4.add (local.get $g0) (f32x4.mul (local.get $x) (v128.load offset=0 (local.get $es)))))
            (local.set $h0 (f32x4.add (local.get $h0) (f32x4.mul (local.get $y) (v128.load offset=0 (local.get $es)))))
            (local.set $g1 (f32x4.add (local.get $g1) (f32x4.mul (local.get $x) (v128.load offset=16 (local.get $es)))))
            (local.set $h1 (f32x4.add (local.get $h1) (f32x4.mul (local.get $y) (v128.load offset=16 (local.get $es)))))
            (local.set $g2 (f32x4.add (local.get $g2) (f32x4.mul (local.get $x) (v128.load offset=32 (local.get $es)))))
            (local.set $h2 (f32x4.add (local.get $h2) (f32x4.mul (local.get $y) (v128.load offset=32 (local.get $es)))))
            (local.set $b (i32.add (local.get $b) (i32.const 1)))
            (br $lb)))
        ;; Adam on the three columns: m = b1 m + c1 g; v = b2 v + (c2 g) g; w -= (lrt m) / (sqrt(v) + eps)
        (local.set $o (i32.const 0))
        (local.set $addr (local.get $i))
        (local.set $g (local.get $g0))
        (local.set $h (local.get $h0))
        (loop $lo
          (local.set $a (i32.add (local.get $addr) (i32.const 0)))
          (local.set $m (f32x4.add
            (f32x4.mul (local.get $vb1) (v128.load (i32.add (global.get $M) (local.get $a))))
            (f32x4.mul (local.get $vc1) (local.get $g))))
          (v128.store (i32.add (global.get $M) (local.get $a)) (local.get $m))
          (local.set $v (f32x4.add
            (f32x4.mul (local.get $vb2) (v128.load (i32.add (global.get $V) (local.get $a))))
            (f32x4.mul (f32x4.mul (local.get $vc2) (local.get $g)) (local.get $g))))
          (v128.store (i32.add (global.get $V) (local.get $a)) (local.get $v))
          (v128.store (i32.add (global.get $W) (local.get $a))
            (f32x4.sub
              (v128.load (i32.add (global.get $W) (local.get $a)))
              (f32x4.div
                (f32x4.mul (local.get $vlrt) (local.get $m))
                (f32x4.add (f32x4.sqrt (local.get $v)) (local.get $veps)))))
          (local.set $a (i32.add (local.get $addr) (i32.const 16)))
          (local.set $m (f32x4.add
            (f32x4.mul (local.get $vb1) (v128.load (i32.add (global.get $M) (local.get $a))))
            (f32x4.mul (local.get $vc1) (local.get $h))))
          (v128.store (i32.add (global.get $M) (local.get $a)) (local.get $m))
          (local.set $v (f32x4.add
            (f32x4.mul (local.get $vb2) (v128.load (i32.add (global.get $V) (local.get $a))))
            (f32x4.mul (f32x4.mul (local.get $vc2) (local.get $h)) (local.get $h))))
          (v128.store (i32.add (global.get $V) (local.get $a)) (local.get $v))
          (v128.store (i32.add (global.get $W) (local.get $a))
            (f32x4.sub
              (v128.load (i32.add (global.get $W) (local.get $a)))
              (f32x4.div
                (f32x4.mul (local.get $vlrt) (local.get $m))
                (f32x4.add (f32x4.sqrt (local.get $v)) (local.get $veps)))))
          (local.set $o (i32.add (local.get $o) (i32.const 1)))
          (local.set $addr (i32.add (local.get $addr) (global.get $RB)))
          (local.set $g (select (local.get $g1) (local.get $g2) (i32.eq (local.get $o) (i32.const 1))))
          (local.set $h (select (local.get $h1) (local.get $h2) (i32.eq (local.get $o) (i32.const 1))))
          (br_if $lo (i32.lt_u (local.get $o) (i32.const 3))))
        (local.set $i (i32.add (local.get $i) (i32.const 32)))
        (br $li))))

  ;; One epoch over the n row indices at `order` in batches of B; lrt: f64 per step of the epoch.
  ;; Returns the sum over rows of squared errors (e0^2 + e1^2 + e2^2) as head.ts accumulates it.
  (func (export "epoch") (param $order i32) (param $n i32) (param $B i32) (param $lrtp i32)
    (param $b1 f64) (param $b2 f64) (param $eps f64) (result f64)
    (local $start i32) (local $nb i32) (local $b i32) (local $r i32) (local $o i32) (local $p i32)
    (local $gscale f64) (local $loss f64) (local $e f64) (local $se f64) (local $lrt f64) (local $g f64)
    (local $mb f64) (local $vb f64) (local $c1 f64) (local $c2 f64)
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
        (call $forward (local.get $nb))
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
        (call $gradAdam (local.get $nb) (f32.demote_f64 (local.get $lrt))
          (f32.demote_f64 (local.get $b1)) (f32.demote_f64 (local.get $c1))
          (f32.demote_f64 (local.get $b2)) (f32.demote_f64 (local.get $c2)) (f32.demote_f64 (local.get $eps)))
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
    (local.get $loss))

  ;; Sum of squared errors of f32-rounded predictions (as predictHead + mseOf) over the n rows at idx.
  (func (export "sse") (param $idx i32) (param $n i32) (result f64)
    (local $i i32) (local $nb i32) (local $b i32) (local $r i32) (local $o i32) (local $e f64) (local $s f64)
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $nb (select (i32.const 2) (i32.sub (local.get $n) (local.get $i))
          (i32.lt_u (i32.const 2) (i32.sub (local.get $n) (local.get $i)))))
        (call $fwd2
          (i32.add (global.get $X) (i32.mul (global.get $RB) (i32.load (i32.add (local.get $idx) (i32.shl (local.get $i) (i32.const 2))))))
          (i32.add (global.get $X) (i32.mul (global.get $RB) (i32.load (i32.add (local.get $idx)
            (i32.shl (i32.add (local.get $i) (i32.sub (local.get $nb) (i32.const 1))) (i32.const 2))))))
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
