#include <cfutures.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
static void *triv(void *a){return a;}
int main(int argc,char**argv){
  long n = argc>1?atol(argv[1]):1000000;
  cf_executor *ex=cf_thread_pool_new(&(cf_pool_opts){.max_workers=2});
  cf_future **fs=malloc(n*sizeof*fs);
  double t0=now();
  for(long i=0;i<n;i++) fs[i]=cf_submit(ex,triv,(void*)i);
  double t1=now();
  for(long i=0;i<n;i++){void*v;cf_future_result(fs[i],-1,&v); if(v!=(void*)i)abort(); cf_future_unref(fs[i]);}
  double t2=now();
  printf("submit %.3fs total %.3fs => %.2f M tasks/s\n",t1-t0,t2-t0,n/(t2-t0)/1e6);
  cf_executor_free(ex); free(fs); return 0;}
