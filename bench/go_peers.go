// SPDX-License-Identifier: MIT
// go_peers.go: Go's goroutines and channels, the peers of cfutures' coroutines and queues. One
// repetition per run, one number on stdout, so cf_bench (bench/peers.c) runs it between its
// own repetitions and the two are interleaved. GOMAXPROCS is Go's default (one per CPU).
//
//	go_peers spawn      1M goroutines spawned and completed (sync.WaitGroup): goroutines/s
//	go_peers pingpong   two goroutines, two unbuffered channels, 200k round trips: us each
//	go_peers chan1p1c   a channel buffered to 1024, one producer and one consumer, 4M items:
//	                    items/s (the sum checks that every item came through once)
package main

import (
	"fmt"
	"os"
	"sync"
	"time"
)

func spawn() float64 {
	const n = 1000000
	var wg sync.WaitGroup
	res := make([]int, n) // each goroutine's result, in its own slot (as cf's futures)
	t0 := time.Now()
	wg.Add(n)
	for i := 0; i < n; i++ {
		go func(i int) {
			res[i] = i
			wg.Done()
		}(i)
	}
	wg.Wait()
	t := time.Since(t0).Seconds()
	sum := 0
	for _, v := range res {
		sum += v
	}
	if sum != n*(n-1)/2 {
		fmt.Fprintln(os.Stderr, "spawn: wrong sum")
		os.Exit(1)
	}
	return n / t
}

func pingpong() float64 {
	const n = 200000
	a, b := make(chan int), make(chan int)
	go func() {
		for v := range a {
			b <- v
		}
		close(b)
	}()
	t0 := time.Now()
	for i := 0; i < n; i++ {
		a <- i
		if <-b != i {
			fmt.Fprintln(os.Stderr, "pingpong: wrong value")
			os.Exit(1)
		}
	}
	t := time.Since(t0).Seconds()
	close(a)
	return t / n * 1e6
}

func chan1p1c() float64 {
	const n = 4000000
	c := make(chan int, 1024)
	t0 := time.Now()
	go func() {
		for i := 1; i <= n; i++ {
			c <- i
		}
		close(c)
	}()
	sum := 0
	for v := range c {
		sum += v
	}
	t := time.Since(t0).Seconds()
	if sum != n*(n+1)/2 {
		fmt.Fprintln(os.Stderr, "chan1p1c: wrong sum")
		os.Exit(1)
	}
	return n / t
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: go_peers spawn|pingpong|chan1p1c")
		os.Exit(2)
	}
	var v float64
	switch os.Args[1] {
	case "spawn":
		v = spawn()
	case "pingpong":
		v = pingpong()
	case "chan1p1c":
		v = chan1p1c()
	default:
		fmt.Fprintln(os.Stderr, "go_peers: unknown figure", os.Args[1])
		os.Exit(2)
	}
	fmt.Printf("%.6g\n", v)
}
