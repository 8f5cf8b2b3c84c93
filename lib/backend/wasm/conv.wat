;; Convolution as an indirect GEMM (XNNPACK's "igemm" idea), f32x4 SIMD, 4 x 8 register tile.
;; Source of lib/backend/wasm/conv_wasm.ts (regenerate: npx tsx scripts/build-wasm.ts).
;; (MADD a b c) is expanded at build time to f32x4.add(f32x4.mul(a, b), c): the multiply-add with
;; two roundings that XNNPACK's wasm SIMD kernels use, so results match tfjs's conv2d closely.
;;
;; The module imports the memory of the tfjs wasm backend, so it reads and writes tensors in place.
;; All addresses are byte addresses in that memory.
;;   out[m, n] = clamp(bias[n] + sum_t sum_c in[row(m, t) + c] * w[t, c, n], lo, hi)
;; where row(m, t) = inBase + indir[m * ks + t], or the zero row when indir[...] < 0 (padding).
;;   indir  i32[M * ks] byte offsets from inBase (tap t of output pixel m), or -1
;;   w      weights: the 8 floats of output channels 8p .. 8p+7 for tap t, channel c at
;;          w + p * wPanel + (t * cin + c) * wRow. Packed panels: wPanel = ks * cin * 32, wRow = 32
;;          (columns past N zero); tfjs's [kh, kw, cin, N] layout: wPanel = 32, wRow = 4 N
;;          (N a multiple of 8)
;;   bias   f32[8 * panels] (a multiple of 8 floats; zeros for none)
;;   out    row m at out + m * ldc * 4; only columns < N are written
;;   zero   cin zero floats
;; Rows are processed in blocks of mc so that a block's input rows stay in cache while every
;; panel of weights passes over them.
(module
  (import "env" "memory" (memory 1))

  (func (export "igemm")
    (param $M i32) (param $N i32) (param $cin i32) (param $ks i32)
    (param $indir i32) (param $inBase i32) (param $zero i32)
    (param $w i32) (param $wPanel i32) (param $wRow i32) (param $bias i32) (param $out i32) (param $ldc i32)
    (param $mc i32) (param $lo f32) (param $hi f32)
    (local $mb i32) (local $mEnd i32) (local $p i32) (local $np i32) (local $m0 i32)
    (local $r1 i32) (local $r2 i32) (local $r3 i32)
    (local $wp i32) (local $t i32) (local $c i32) (local $off i32)
    (local $a0 i32) (local $a1 i32) (local $a2 i32) (local $a3 i32)
    (local $i0 i32) (local $i1 i32) (local $i2 i32) (local $i3 i32)
    (local $col i32) (local $rest i32) (local $rowBytes i32)
    (local $o0 i32) (local $o1 i32) (local $o2 i32) (local $o3 i32)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local $b0 v128) (local $b1 v128) (local $va v128) (local $vlo v128) (local $vhi v128)
    (local.set $np (i32.shr_u (i32.add (local.get $N) (i32.const 7)) (i32.const 3)))
    (local.set $rowBytes (i32.shl (local.get $ldc) (i32.const 2)))
    (local.set $vlo (f32x4.splat (local.get $lo)))
    (local.set $vhi (f32x4.splat (local.get $hi)))
    (local.set $mb (i32.const 0))
    (block $mbDone
      (loop $mbLoop
        (br_if $mbDone (i32.ge_u (local.get $mb) (local.get $M)))
        (local.set $mEnd (i32.add (local.get $mb) (local.get $mc)))
        (if (i32.gt_u (local.get $mEnd) (local.get $M)) (then (local.set $mEnd (local.get $M))))
        (local.set $p (i32.const 0))
        (block $pDone
          (loop $pLoop
            (br_if $pDone (i32.ge_u (local.get $p) (local.get $np)))
            (local.set $m0 (local.get $mb))
            (block $mDone
              (loop $mLoop
                (br_if $mDone (i32.ge_u (local.get $m0) (local.get $mEnd)))
                ;; rows past the block end repeat the last row (same values written twice)
                (local.set $r1 (i32.add (local.get $m0) (i32.const 1)))
                (if (i32.ge_u (local.get $r1) (local.get $mEnd)) (then (local.set $r1 (i32.sub (local.get $mEnd) (i32.const 1)))))
                (local.set $r2 (i32.add (local.get $m0) (i32.const 2)))
                (if (i32.ge_u (local.get $r2) (local.get $mEnd)) (then (local.set $r2 (i32.sub (local.get $mEnd) (i32.const 1)))))
                (local.set $r3 (i32.add (local.get $m0) (i32.const 3)))
                (if (i32.ge_u (local.get $r3) (local.get $mEnd)) (then (local.set $r3 (i32.sub (local.get $mEnd) (i32.const 1)))))
                (local.set $c00 (v128.load (i32.add (local.get $bias) (i32.shl (local.get $p) (i32.const 5)))))
                (local.set $c01 (v128.load offset=16 (i32.add (local.get $bias) (i32.shl (local.get $p) (i32.const 5)))))
                (local.set $c10 (local.get $c00)) (local.set $c11 (local.get $c01))
                (local.set $c20 (local.get $c00)) (local.set $c21 (local.get $c01))
                (local.set $c30 (local.get $c00)) (local.set $c31 (local.get $c01))
                (local.set $wp (i32.add (local.get $w) (i32.mul (local.get $p) (local.get $wPanel))))
                ;; indirection entries of the four rows, tap 0
                (local.set $i0 (i32.add (local.get $indir) (i32.shl (i32.mul (local.get $m0) (local.get $ks)) (i32.const 2))))
                (local.set $i1 (i32.add (local.get $indir) (i32.shl (i32.mul (local.get $r1) (local.get $ks)) (i32.const 2))))
                (local.set $i2 (i32.add (local.get $indir) (i32.shl (i32.mul (local.get $r2) (local.get $ks)) (i32.const 2))))
                (local.set $i3 (i32.add (local.get $indir) (i32.shl (i32.mul (local.get $r3) (local.get $ks)) (i32.const 2))))
                (local.set $t (local.get $ks))
                (loop $tLoop
                  (local.set $off (i32.load (local.get $i0)))
                  (local.set $a0 (select (local.get $zero) (i32.add (local.get $inBase) (local.get $off)) (i32.lt_s (local.get $off) (i32.const 0))))
                  (local.set $off (i32.load (local.get $i1)))
                  (local.set $a1 (select (local.get $zero) (i32.add (local.get $inBase) (local.get $off)) (i32.lt_s (local.get $off) (i32.const 0))))
                  (local.set $off (i32.load (local.get $i2)))
                  (local.set $a2 (select (local.get $zero) (i32.add (local.get $inBase) (local.get $off)) (i32.lt_s (local.get $off) (i32.const 0))))
                  (local.set $off (i32.load (local.get $i3)))
                  (local.set $a3 (select (local.get $zero) (i32.add (local.get $inBase) (local.get $off)) (i32.lt_s (local.get $off) (i32.const 0))))
                  (local.set $c (local.get $cin))
                  (loop $cLoop
                    (local.set $b0 (v128.load (local.get $wp)))
                    (local.set $b1 (v128.load offset=16 (local.get $wp)))
                    (local.set $va (v128.load32_splat (local.get $a0)))
                    (local.set $c00 (MADD (local.get $va) (local.get $b0) (local.get $c00)))
                    (local.set $c01 (MADD (local.get $va) (local.get $b1) (local.get $c01)))
                    (local.set $va (v128.load32_splat (local.get $a1)))
                    (local.set $c10 (MADD (local.get $va) (local.get $b0) (local.get $c10)))
                    (local.set $c11 (MADD (local.get $va) (local.get $b1) (local.get $c11)))
                    (local.set $va (v128.load32_splat (local.get $a2)))
                    (local.set $c20 (MADD (local.get $va) (local.get $b0) (local.get $c20)))
                    (local.set $c21 (MADD (local.get $va) (local.get $b1) (local.get $c21)))
                    (local.set $va (v128.load32_splat (local.get $a3)))
                    (local.set $c30 (MADD (local.get $va) (local.get $b0) (local.get $c30)))
                    (local.set $c31 (MADD (local.get $va) (local.get $b1) (local.get $c31)))
                    (local.set $a0 (i32.add (local.get $a0) (i32.const 4)))
                    (local.set $a1 (i32.add (local.get $a1) (i32.const 4)))
                    (local.set $a2 (i32.add (local.get $a2) (i32.const 4)))
                    (local.set $a3 (i32.add (local.get $a3) (i32.const 4)))
                    (local.set $wp (i32.add (local.get $wp) (local.get $wRow)))
                    (local.set $c (i32.sub (local.get $c) (i32.const 1)))
                    (br_if $cLoop (local.get $c)))
                  (local.set $i0 (i32.add (local.get $i0) (i32.const 4)))
                  (local.set $i1 (i32.add (local.get $i1) (i32.const 4)))
                  (local.set $i2 (i32.add (local.get $i2) (i32.const 4)))
                  (local.set $i3 (i32.add (local.get $i3) (i32.const 4)))
                  (local.set $t (i32.sub (local.get $t) (i32.const 1)))
                  (br_if $tLoop (local.get $t)))
                ;; clamp (pmin/pmax: one instruction each; lo/hi are never NaN)
                (local.set $c00 (f32x4.pmax (local.get $vlo) (f32x4.pmin (local.get $vhi) (local.get $c00))))
                (local.set $c01 (f32x4.pmax (local.get $vlo) (f32x4.pmin (local.get $vhi) (local.get $c01))))
                (local.set $c10 (f32x4.pmax (local.get $vlo) (f32x4.pmin (local.get $vhi) (local.get $c10))))
                (local.set $c11 (f32x4.pmax (local.get $vlo) (f32x4.pmin (local.get $vhi) (local.get $c11))))
                (local.set $c20 (f32x4.pmax (local.get $vlo) (f32x4.pmin (local.get $vhi) (local.get $c20))))
                (local.set $c21 (f32x4.pmax (local.get $vlo) (f32x4.pmin (local.get $vhi) (local.get $c21))))
                (local.set $c30 (f32x4.pmax (local.get $vlo) (f32x4.pmin (local.get $vhi) (local.get $c30))))
                (local.set $c31 (f32x4.pmax (local.get $vlo) (f32x4.pmin (local.get $vhi) (local.get $c31))))
                (local.set $col (i32.shl (local.get $p) (i32.const 3)))
                (local.set $o0 (i32.add (local.get $out) (i32.add (i32.mul (local.get $m0) (local.get $rowBytes)) (i32.shl (local.get $col) (i32.const 2)))))
                (local.set $o1 (i32.add (local.get $out) (i32.add (i32.mul (local.get $r1) (local.get $rowBytes)) (i32.shl (local.get $col) (i32.const 2)))))
                (local.set $o2 (i32.add (local.get $out) (i32.add (i32.mul (local.get $r2) (local.get $rowBytes)) (i32.shl (local.get $col) (i32.const 2)))))
                (local.set $o3 (i32.add (local.get $out) (i32.add (i32.mul (local.get $r3) (local.get $rowBytes)) (i32.shl (local.get $col) (i32.const 2)))))
                (local.set $rest (i32.sub (local.get $N) (local.get $col)))
                (if (i32.ge_u (local.get $rest) (i32.const 8))
                  (then
                    (v128.store (local.get $o3) (local.get $c30)) (v128.store offset=16 (local.get $o3) (local.get $c31))
                    (v128.store (local.get $o2) (local.get $c20)) (v128.store offset=16 (local.get $o2) (local.get $c21))
                    (v128.store (local.get $o1) (local.get $c10)) (v128.store offset=16 (local.get $o1) (local.get $c11))
                    (v128.store (local.get $o0) (local.get $c00)) (v128.store offset=16 (local.get $o0) (local.get $c01)))
                  (else
                    (call $storePartial (local.get $o3) (local.get $c30) (local.get $c31) (local.get $rest))
                    (call $storePartial (local.get $o2) (local.get $c20) (local.get $c21) (local.get $rest))
                    (call $storePartial (local.get $o1) (local.get $c10) (local.get $c11) (local.get $rest))
                    (call $storePartial (local.get $o0) (local.get $c00) (local.get $c01) (local.get $rest))))
                (local.set $m0 (i32.add (local.get $m0) (i32.const 4)))
                (br $mLoop)))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (br $pLoop)))
        (local.set $mb (local.get $mEnd))
        (br $mbLoop))))

  ;; Stores the first n (1..7) lanes of (lo, hi) at o.
  (func $storePartial (param $o i32) (param $lo v128) (param $hi v128) (param $n i32)
    (if (i32.ge_u (local.get $n) (i32.const 4))
      (then
        (v128.store (local.get $o) (local.get $lo))
        (local.set $o (i32.add (local.get $o) (i32.const 16)))
        (local.set $lo (local.get $hi))
        (local.set $n (i32.sub (local.get $n) (i32.const 4)))))
    (if (i32.gt_u (local.get $n) (i32.const 0)) (then (f32.store (local.get $o) (f32x4.extract_lane 0 (local.get $lo)))))
    (if (i32.gt_u (local.get $n) (i32.const 1)) (then (f32.store offset=4 (local.get $o) (f32x4.extract_lane 1 (local.get $lo)))))
    (if (i32.gt_u (local.get $n) (i32.const 2)) (then (f32.store offset=8 (local.get $o) (f32x4.extract_lane 2 (local.get $lo))))))
)
