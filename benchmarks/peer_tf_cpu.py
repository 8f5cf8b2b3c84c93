"""Keras on TensorFlow CPU like ../shared/tools/peer_tf_bench.py (batch 32 of 80x80x3, 2 intra-op
threads, inference via tf.function), but also reporting process CPU milliseconds per image, which a
shared machine's other load does not inflate (compare with bench-inference's cpuMsPerImage).
Usage: .venv/bin/python benchmarks/peer_tf_cpu.py [ResNet50 DenseNet121 MobileNetV2 ...]"""
import os, sys, time, statistics
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
os.environ.setdefault('TF_ENABLE_ONEDNN_OPTS', '0')  # oneDNN dies with SIGFPE on this CPU (lib/backend/select.ts)
import numpy as np, tensorflow as tf
tf.config.threading.set_intra_op_parallelism_threads(2)
tf.config.threading.set_inter_op_parallelism_threads(1)
x = tf.constant(np.random.default_rng(0).normal(size=(32, 80, 80, 3)).astype('float32'))
print('tensorflow', tf.__version__, 'oneDNN opts', os.environ['TF_ENABLE_ONEDNN_OPTS'])
for name in sys.argv[1:] or ['ResNet50', 'DenseNet121', 'MobileNetV2']:
    m = getattr(tf.keras.applications, name)(include_top=False, weights=None, input_shape=(80, 80, 3))
    f = tf.function(lambda t: m(t, training=False))
    walls, cpus = [], []
    for i in range(7):
        c0 = time.process_time(); t0 = time.perf_counter(); f(x).numpy()
        dt = time.perf_counter() - t0; dc = time.process_time() - c0
        if i >= 2: walls.append(dt); cpus.append(dc)
    w, c = statistics.median(walls), statistics.median(cpus)
    print(f'RESULT tf {name} infer batch=32 median={w*1000:.0f}ms img/s={32/w:.1f} cpu_ms_per_image={c*1000/32:.2f} cpu_bound_img_s_2cores={2*32/c:.1f}')
