/* Glue for the bnorm functions of actcore._core (see _glue.h). */
#include "_glue.h"

PyMethodDef act_bnorm_methods[] = {
    {NULL, NULL, 0, NULL},
};
