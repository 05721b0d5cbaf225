package dev.bulkhead.engine.internal.sampling;

/**
 * Allocation-free binary heaps over caller-owned arrays, and the packed {@code long} keys the sampler orders
 * tokens by: larger value first, then lower id, so one ascending comparison of two longs gives the order.
 */
final class Heaps {

    private Heaps() {
    }

    /**
     * Key ordering (value descending, id ascending) as an ascending long. Any float but NaN; ids >= 0.
     */
    static long descendingKey(float value, int id) {
        int bits = Float.floatToRawIntBits(value);
        // NOTE: flips the magnitude bits of negatives so signed-int order equals float order, then inverts it.
        int sortable = bits ^ ((bits >> 31) & 0x7fffffff);
        return ((long) ~sortable << 32) | id;
    }

    /** The value a {@link #descendingKey} was built from. */
    static float valueOf(long key) {
        int sortable = ~(int) (key >> 32);
        int bits = sortable ^ ((sortable >> 31) & 0x7fffffff);
        return Float.intBitsToFloat(bits);
    }

    /** The id a {@link #descendingKey} was built from. */
    static int idOf(long key) {
        return (int) key;
    }

    /** Turns {@code a[0, size)} into a min-heap in O(size). */
    static void heapifyMin(long[] a, int size) {
        for (int i = (size >>> 1) - 1; i >= 0; i--) {
            siftDownMin(a, i, size);
        }
    }

    /** Removes and returns the smallest key of the min-heap {@code a[0, size)}; the heap then has size - 1. */
    static long popMin(long[] a, int size) {
        long top = a[0];
        a[0] = a[size - 1];
        siftDownMin(a, 0, size - 1);
        return top;
    }

    private static void siftDownMin(long[] a, int i, int size) {
        long x = a[i];
        int child;
        while ((child = 2 * i + 1) < size) {
            if (child + 1 < size && a[child + 1] < a[child]) {
                child++;
            }
            if (a[child] >= x) {
                break;
            }
            a[i] = a[child];
            i = child;
        }
        a[i] = x;
    }

    /**
     * Offers {@code key} to a bounded max-heap {@code a[0, size)} that keeps the {@code capacity} smallest keys
     * seen; returns the new size.
     */
    static int offerSmallest(long[] a, int size, int capacity, long key) {
        if (size < capacity) {
            int i = size;
            while (i > 0) {
                int parent = (i - 1) >>> 1;
                if (a[parent] >= key) {
                    break;
                }
                a[i] = a[parent];
                i = parent;
            }
            a[i] = key;
            return size + 1;
        }
        if (capacity == 0 || key >= a[0]) {
            return size;
        }
        int i = 0;
        int child;
        while ((child = 2 * i + 1) < size) {
            if (child + 1 < size && a[child + 1] > a[child]) {
                child++;
            }
            if (a[child] <= key) {
                break;
            }
            a[i] = a[child];
            i = child;
        }
        a[i] = key;
        return size;
    }

    /**
     * The {@code k}-th largest of {@code values[0, n)} (counting repeats), {@code 1 <= k <= n}, in O(n log k)
     * with a min-heap held in {@code heap} (length >= k).
     */
    static float kthLargest(float[] values, int n, int k, float[] heap) {
        for (int i = 0; i < k; i++) {
            float x = values[i];
            int j = i;
            while (j > 0) {
                int parent = (j - 1) >>> 1;
                if (heap[parent] <= x) {
                    break;
                }
                heap[j] = heap[parent];
                j = parent;
            }
            heap[j] = x;
        }
        for (int i = k; i < n; i++) {
            float x = values[i];
            if (x <= heap[0]) {
                continue;
            }
            int j = 0;
            int child;
            while ((child = 2 * j + 1) < k) {
                if (child + 1 < k && heap[child + 1] < heap[child]) {
                    child++;
                }
                if (heap[child] >= x) {
                    break;
                }
                heap[j] = heap[child];
                j = child;
            }
            heap[j] = x;
        }
        return heap[0];
    }
}
