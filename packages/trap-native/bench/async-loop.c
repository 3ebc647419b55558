// Measurement, not a test (see packages/runtime/bench/README.md, "eighth pass"): would running
// a sandbox's processes on the other CPU while the tracer answers whichever stops first beat
// today's one at a time on the tracer's CPU? N tracees each loop { compute Y us; getppid }; the
// tracer spends X us per trapped call (standing in for the JavaScript of a syscall), then
// answers it (PTRACE_GETREGS, POKEUSER, SYSEMU), as the ptrace platform does.
//   sync : tracer and tracees on CPU 1; the tracer resumes one tracee and waits for it (today)
//   async: tracer on CPU 1, tracees on CPU 0; the tracer takes any stop (waitpid -1)
//   mixed: tracees on both CPUs, tracer on CPU 1, any stop
// Prints calls per second. Needs 2 CPUs; the tracees never block on each other, unlike a real
// server's processes, so this bounds what the change could bring.
//   gcc -O2 -o async-loop async-loop.c && ./async-loop mixed 8 6 5 1
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <stddef.h>
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec*1e6+t.tv_nsec/1e3;}
static void spin(double us){double t=now();while(now()-t<us);}
static void pin(pid_t p,int cpu){cpu_set_t s;CPU_ZERO(&s);if(cpu<0){CPU_SET(0,&s);CPU_SET(1,&s);}else CPU_SET(cpu,&s);sched_setaffinity(p,sizeof s,&s);}
int main(int argc,char**argv){
  const char*mode=argv[1];int n=atoi(argv[2]);double X=atof(argv[3]),Y=atof(argv[4]);double secs=argc>5?atof(argv[5]):1.0;
  int sync=!strcmp(mode,"sync"),mixed=!strcmp(mode,"mixed");
  pin(0,1);
  pid_t kids[64];
  for(int i=0;i<n;i++){pid_t p=fork();if(p==0){ptrace(PTRACE_TRACEME,0,0,0);raise(SIGSTOP);for(;;){spin(Y);syscall(SYS_getppid);}}
    kids[i]=p;int st;waitpid(p,&st,__WALL);ptrace(PTRACE_SETOPTIONS,p,0,PTRACE_O_EXITKILL);
    pin(p,sync?1:mixed?-1:0);}
  long calls=0;double t0=now();
  for(int i=0;i<n;i++)ptrace(PTRACE_SYSEMU,kids[i],0,0);
  if(sync){
    // resume one, wait for it, answer, move on: tracees other than the current one wait stopped.
    // (they were all resumed once above; collect those stops first)
    for(int i=0;i<n;i++){int st;waitpid(kids[i],&st,__WALL);}
    int i=0;
    while(now()-t0<secs*1e6){pid_t p=kids[i];struct user_regs_struct r;ptrace(PTRACE_GETREGS,p,0,&r);spin(X);
      ptrace(PTRACE_POKEUSER,p,offsetof(struct user_regs_struct,rax),(void*)(long)getppid());
      ptrace(PTRACE_SYSEMU,p,0,0);int st;waitpid(p,&st,__WALL);calls++;i=(i+1)%n;}
  }else{
    while(now()-t0<secs*1e6){int st;pid_t p=waitpid(-1,&st,__WALL);if(p<0)break;struct user_regs_struct r;ptrace(PTRACE_GETREGS,p,0,&r);spin(X);
      ptrace(PTRACE_POKEUSER,p,offsetof(struct user_regs_struct,rax),(void*)(long)getppid());ptrace(PTRACE_SYSEMU,p,0,0);calls++;}
  }
  double t=now()-t0;for(int i=0;i<n;i++)kill(kids[i],9);while(wait(0)>0);
  printf("%-5s n=%d X=%.0f Y=%.0f: %.0f calls/s (%.1f us/call)\n",mode,n,X,Y,calls/(t/1e6),t/calls);return 0;}
