#ifndef ADA_CEDITLINE_SHIM_H
#define ADA_CEDITLINE_SHIM_H
#include <stdio.h>
#include <editline/readline.h>
#endif
