package dev.bulkhead.kvcache;

import java.util.Arrays;

/**
 * An intrusive doubly-linked queue of block ids over two {@code int[]} arrays: O(1) push at the back, pop at
 * the front and removal from the middle, no allocation after construction. Front = least recently pushed.
 */
final class BlockQueue {

    static final int NONE = -1;
    private static final int NOT_QUEUED = -2;

    private final int[] prev;
    private final int[] next;
    private int head = NONE;
    private int tail = NONE;
    private int size;

    BlockQueue(int numBlocks) {
        prev = new int[numBlocks];
        next = new int[numBlocks];
        Arrays.fill(prev, NOT_QUEUED);
        Arrays.fill(next, NOT_QUEUED);
    }

    int size() {
        return size;
    }

    boolean contains(int block) {
        return prev[block] != NOT_QUEUED;
    }

    void pushBack(int block) {
        if (contains(block)) {
            throw new IllegalStateException("block " + block + " is already queued");
        }
        prev[block] = tail;
        next[block] = NONE;
        if (tail == NONE) {
            head = block;
        } else {
            next[tail] = block;
        }
        tail = block;
        size++;
    }

    /** Removes and returns the front block, or {@link #NONE} when empty. */
    int popFront() {
        int block = head;
        if (block != NONE) {
            remove(block);
        }
        return block;
    }

    void remove(int block) {
        if (!contains(block)) {
            throw new IllegalStateException("block " + block + " is not queued");
        }
        int p = prev[block];
        int n = next[block];
        if (p == NONE) {
            head = n;
        } else {
            next[p] = n;
        }
        if (n == NONE) {
            tail = p;
        } else {
            prev[n] = p;
        }
        prev[block] = NOT_QUEUED;
        next[block] = NOT_QUEUED;
        size--;
    }

    /** The front block, or {@link #NONE}; with {@link #after} walks the queue front to back. */
    int first() {
        return head;
    }

    /** The block after {@code block}, or {@link #NONE}. */
    int after(int block) {
        return next[block];
    }
}
